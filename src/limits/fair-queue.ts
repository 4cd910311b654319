/**
 * The order in which waiting work gets a backend slot: token-fair, by a virtual token counter per
 * tenant (the VTC of "Fairness in Serving Large Language Models", OSDI '24).
 *
 * Each tenant's counter is the service it received: prompt tokens x 1 + output tokens x 2,
 * divided by its weight. A job is charged its estimate when it gets a slot and corrected with
 * the backend's own counts when it ends. The next free slot goes to the first waiting job of the
 * tenant with the smallest counter. A tenant that becomes active after being idle is lifted to
 * the smallest counter among active tenants (or, with none, to where the last one served stood),
 * so idleness banks no credit and a returning tenant cannot starve the others.
 *
 * Request-count fairness (the previous "priority = jobs held") lets a tenant whose answers are
 * ten times longer take several times the GPU; this bounds the service gap between backlogged
 * tenants by about one job's worth of tokens per slot.
 */

/** Service units of one job: what the counters add up. */
export interface WorkTokens {
  promptTokens: number;
  outputTokens: number;
}

export const serviceOf = (w: WorkTokens): number => Math.max(0, w.promptTokens) + 2 * Math.max(0, w.outputTokens);

export interface FairEntry {
  readonly tenantId: string;
  /** Share of the backend relative to other tenants (a plan field); at least a tiny positive number. */
  readonly weight: number;
  /** Estimated service units, charged when the entry gets a slot. */
  readonly estimate: number;
  /** Called once, when the entry gets a slot; the job settles the grant when it ends. */
  readonly start: (grant: FairGrant) => void;
}

/** A queued entry, as its owner holds it. */
export interface FairTicket {
  /** Takes a waiting entry out of the queue; false once it started (or was cancelled). */
  cancel(): boolean;
  /** Jobs that get a slot before this one (0 once it started). */
  ahead(): number;
}

/** An entry that got its slot: settle() corrects its tenant's counter and frees the slot. */
export interface FairGrant {
  /** Replaces the estimate with what the job really cost; frees the slot. Later calls do nothing. */
  settle(actualService?: number): void;
}

interface Waiting extends FairEntry {
  cancelled: boolean;
}

interface TenantState {
  counter: number;
  queue: Waiting[];
  running: number;
  /** Jobs announced with arrive() that have not departed (they may wait in a limiter in front). */
  present: number;
}

export class FairQueue {
  private readonly tenants = new Map<string, TenantState>();
  private running = 0;
  private waiting = 0;
  /** Counter of the tenant served last, before its charge: where a tenant re-enters when nobody is active. */
  private lastServed = 0;

  /** `capacity()` is read at every dispatch: the slots that may be in use at once now. */
  /** The tenants active last (distinct, newest first), for the headroom rule. */
  private recent: { tenantId: string; at: number }[] = [];
  private headroomTimer?: NodeJS.Timeout;

  /**
   * `capacity()` is read at every dispatch. `headroomMs`: while another tenant was active within
   * this long, a tenant that already holds a slot does not take the last free one, so a quiet
   * tenant's next question finds a slot instead of waiting for a long answer to end (0 = off).
   */
  constructor(
    private readonly capacity: () => number,
    private readonly options: { headroomMs?: number; now?: () => number } = {},
  ) {}

  /**
   * Announces a job of the tenant that will reach the queue later (it waits in a limiter in front
   * first). While a tenant has such jobs it is not idle, so a moment with nothing queued between
   * two of its jobs does not cost it its place. Returns the departure, for when the job is done.
   */
  arrive(tenantId: string): () => void {
    const state = this.stateOf(tenantId);
    if (this.idle(state)) this.lift(state);
    state.present += 1;
    this.touch(tenantId);
    let departed = false;
    return () => {
      if (departed) return;
      departed = true;
      state.present -= 1;
      this.forgetIfIdle(tenantId, state);
    };
  }

  /** Queues an entry; it starts at once when a slot is free. */
  enqueue(entry: FairEntry): FairTicket {
    const state = this.stateOf(entry.tenantId);
    // Idle until now: no credit for the time away.
    if (this.idle(state)) this.lift(state);
    const waiting: Waiting = { ...entry, cancelled: false };
    state.queue.push(waiting);
    this.waiting += 1;
    this.touch(entry.tenantId);
    if (this.tenants.size > SWEEP_ABOVE) this.sweep();
    this.dispatch();
    return {
      cancel: () => {
        const at = state.queue.indexOf(waiting);
        if (waiting.cancelled || at < 0) return false;
        waiting.cancelled = true;
        state.queue.splice(at, 1);
        this.waiting -= 1;
        this.forgetIfIdle(entry.tenantId, state);
        return true;
      },
      ahead: () => {
        const at = state.queue.indexOf(waiting);
        return at < 0 ? 0 : this.aheadOf(entry.tenantId, at);
      },
    };
  }

  /** Dispatches while slots are free (call when capacity may have grown). */
  dispatch(): void {
    while (this.waiting > 0 && this.running < this.capacity()) {
      const next = this.smallest(this.capacity());
      if (!next) return;
      const [tenantId, state] = next;
      const entry = state.queue.shift()!;
      this.waiting -= 1;
      const weight = weightOf(entry.weight);
      this.lastServed = state.counter;
      state.counter += entry.estimate / weight;
      state.running += 1;
      this.running += 1;
      let settled = false;
      const grant: FairGrant = {
        settle: (actual?: number) => {
          if (settled) return;
          settled = true;
          if (actual !== undefined && Number.isFinite(actual)) state.counter += (actual - entry.estimate) / weight;
          state.running -= 1;
          this.touch(tenantId);
          this.running -= 1;
          this.forgetIfIdle(tenantId, state);
          this.dispatch();
        },
      };
      entry.start(grant);
    }
  }

  /**
   * Jobs that get a slot before the tenant's next one: its own earlier ones, and of every other
   * tenant those it would be served before this tenant's counter catches up with theirs.
   */
  /** Jobs that get a slot before one the tenant would queue now (behind all of its own). */
  aheadAtEnd(tenantId: string): number {
    return this.aheadOf(tenantId, this.tenants.get(tenantId)?.queue.length ?? 0);
  }

  private aheadOf(tenantId: string, position: number): number {
    const state = this.tenants.get(tenantId);
    const own = state?.queue.slice(0, position) ?? [];
    const cost = own.reduce((sum, e) => sum + e.estimate / weightOf(e.weight), 0);
    const myCounter = (state?.counter ?? this.floor()) + cost;
    let ahead = own.length;
    for (const [id, other] of this.tenants) {
      if (id === tenantId || other.queue.length === 0) continue;
      let c = other.counter;
      // Ties go to the tenant holding fewer slots (as smallest() picks).
      const winsTies = other.running < (state?.running ?? 0);
      for (const e of other.queue) {
        if (c > myCounter || (c === myCounter && !winsTies)) break;
        ahead += 1;
        c += e.estimate / weightOf(e.weight);
      }
    }
    return ahead;
  }

  /** The tenant's counter (for tests and the bench). */
  counterOf(tenantId: string): number {
    return this.tenants.get(tenantId)?.counter ?? 0;
  }

  stats(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting };
  }

  /** The waiting tenant with the smallest counter, but not one the headroom rule holds back. */
  private smallest(capacity: number): [string, TenantState] | undefined {
    let best: [string, TenantState] | undefined;
    let heldBack = false;
    const free = capacity - this.running;
    for (const pair of this.tenants) {
      if (pair[1].queue.length === 0) continue;
      // A tenant that holds a slot leaves as many free as there are others who asked lately.
      if (pair[1].running > 0 && free - 1 < Math.min(capacity - 1, this.othersActive(pair[0]))) {
        heldBack = true;
        continue;
      }
      // Ties go to the tenant holding fewer slots now (a tenant that just re-entered).
      if (!best || pair[1].counter < best[1].counter || (pair[1].counter === best[1].counter && pair[1].running < best[1].running)) best = pair;
    }
    // A slot left free for others is offered again once they have been quiet for a while.
    if (!best && heldBack) this.recheckLater();
    return best;
  }

  private touch(tenantId: string): void {
    if (!this.options.headroomMs) return;
    const at = (this.options.now ?? Date.now)();
    this.recent = [{ tenantId, at }, ...this.recent.filter((r) => r.tenantId !== tenantId)].slice(0, RECENT_KEPT);
  }

  /**
   * How many other tenants that have nothing under way now were active within the headroom
   * time: tenants that ask now and then, whose next questions free slots are kept for.
   */
  private othersActive(tenantId: string): number {
    const ms = this.options.headroomMs;
    if (!ms) return 0;
    const since = (this.options.now ?? Date.now)() - ms;
    let n = 0;
    for (const r of this.recent) {
      if (r.tenantId === tenantId || r.at < since) continue;
      const state = this.tenants.get(r.tenantId);
      if (!state || this.idle(state)) n += 1;
    }
    return n;
  }

  private recheckLater(): void {
    if (this.headroomTimer) return;
    this.headroomTimer = setTimeout(() => {
      this.headroomTimer = undefined;
      this.dispatch();
    }, this.options.headroomMs).unref();
  }

  private idle(state: TenantState): boolean {
    return state.queue.length === 0 && state.running === 0 && state.present === 0;
  }

  private lift(state: TenantState): void {
    state.counter = Math.max(state.counter, this.floor(state));
  }

  /**
   * The smallest counter among active tenants (waiting, running, or announced) other than
   * `except`, else where the last one served stood before it was charged.
   */
  private floor(except?: TenantState): number {
    let min = Number.POSITIVE_INFINITY;
    for (const state of this.tenants.values()) if (state !== except && !this.idle(state)) min = Math.min(min, state.counter);
    return Number.isFinite(min) ? min : this.lastServed;
  }

  /**
   * A tenant with nothing waiting or running keeps no state: it would re-enter at the floor
   * anyway (a counter above the floor is kept only while it matters: see enqueue()).
   */
  private forgetIfIdle(tenantId: string, state: TenantState): void {
    if (this.idle(state) && state.counter <= this.floor() && this.tenants.get(tenantId) === state) this.tenants.delete(tenantId);
  }

  /** Drops idle tenants whose counter the floor has caught up with (they would re-enter there anyway). */
  private sweep(): void {
    const floor = this.floor();
    for (const [id, state] of this.tenants) if (this.idle(state) && state.counter <= floor) this.tenants.delete(id);
  }

  private stateOf(tenantId: string): TenantState {
    let state = this.tenants.get(tenantId);
    if (!state) {
      state = { counter: this.floor(), queue: [], running: 0, present: 0 };
      this.tenants.set(tenantId, state);
    }
    return state;
  }
}

/** Tenants remembered as recently active, for the headroom rule. */
const RECENT_KEPT = 8;
/** Past this many tenants with state, idle ones are swept on the next enqueue. */
const SWEEP_ABOVE = 1_000;

const weightOf = (w: number) => (Number.isFinite(w) && w > 0 ? w : 1);
