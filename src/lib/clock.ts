export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }

/** A clock for tests: time stands still until advanced. */
export class FixedClock implements Clock {
  private t: number
  constructor(start: Date | string = '2026-01-01T00:00:00Z') {
    this.t = new Date(start).getTime()
  }
  now() {
    return new Date(this.t)
  }
  advance(ms: number) {
    this.t += ms
  }
  set(to: Date | string) {
    this.t = new Date(to).getTime()
  }
}
