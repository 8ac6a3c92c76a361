/** A bench child exits on its own if the bench that started it is gone (e.g. killed with SIGKILL). */
const parent = Number(process.env.BENCH_PARENT_PID)
if (parent > 0) {
  setInterval(() => {
    try {
      process.kill(parent, 0)
    } catch {
      process.exit(1)
    }
  }, 1000).unref()
}
