// Preloaded into the prototype's server by bench/hot_path.py (`node -r`): its express-rate-limit limiter stays
// on, with `max` taken from PROTOTYPE_RATE_LIMIT instead of the hard-coded 100, so a benchmark cannot trip it.
// The prototype's own files are not changed.
const Module = require('module')

const limit = Number(process.env.PROTOTYPE_RATE_LIMIT)
const originalRequire = Module.prototype.require

Module.prototype.require = function (id) {
  const exported = originalRequire.apply(this, arguments)
  if (id !== 'express-rate-limit' || !limit) return exported
  const rateLimit = exported.default || exported
  const withLimit = (options) => rateLimit({ ...options, max: limit })
  return { __esModule: true, default: withLimit }
}
