/** A billing or trial interval (the database's `interval` enum). */
export type Interval = 'day' | 'week' | 'month' | 'year'

/** `date` plus `count` calendar intervals, in UTC (month ends clamp: Jan 31 + 1 month = Feb 28/29). */
export function addInterval(date: Date, interval: Interval, count: number): Date {
  const d = new Date(date.getTime())
  switch (interval) {
    case 'day':
      d.setUTCDate(d.getUTCDate() + count)
      return d
    case 'week':
      d.setUTCDate(d.getUTCDate() + 7 * count)
      return d
    case 'month':
    case 'year': {
      const months = interval === 'year' ? 12 * count : count
      const day = d.getUTCDate()
      d.setUTCDate(1)
      d.setUTCMonth(d.getUTCMonth() + months)
      const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate()
      d.setUTCDate(Math.min(day, last))
      return d
    }
  }
}
