/**
 * How long each kind of tenant data is kept, beside conversation memory (whose days the plan
 * sets and a tenant's admins may shorten). One place, read by `retention show`, the background
 * sweep and the README, so what users are told is what the sweep does.
 */
export const keptFor = {
  /** Daily usage counts (numbers only: no text, no user): 400 days, so a year can be compared with the last. */
  usageDays: 400,
  /** The audit log of admin and operator changes (who changed which setting): two years. */
  auditDays: 730,
  /** Answer jobs hold the question text until they finish; finished ones serve dedupe of late retries, then go. */
  finishedJobHours: 24,
  /** The sweep runs this often on every instance, so whatever has expired is gone within about this long. */
  sweepMinutes: 15,
} as const;
