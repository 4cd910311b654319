/** What forgetting a user did to one table, and the marker that replaces their id where a row stays. */

/** What replaces a forgotten user's id where the row itself stays (audit rows, "added by"). */
export const FORGOTTEN_USER = '[forgotten user]';

export interface ForgetCount {
  /** Rows deleted. */
  deleted: number;
  /** Rows kept with the user's id replaced by FORGOTTEN_USER (or emptied). */
  marked: number;
  /** Rows kept as they are, with why (they are about others too, or still in use). */
  kept?: { rows: number; why: string };
}
