/** The org's clock: real time, or a fixed instant / offset set by tests and the control surface. */
export class EmulatorClock {
  private fixed: number | undefined;
  private offsetMs = 0;

  constructor(start?: Date) {
    this.fixed = start?.getTime();
  }

  /** Current time as the org sees it. */
  now(): Date {
    return new Date(this.fixed ?? Date.now() + this.offsetMs);
  }

  /** Freezes the clock at an instant (undefined: back to real time). */
  setFixed(at: Date | undefined): void {
    this.fixed = at?.getTime();
  }

  /** Moves a running clock by an offset from real time. */
  setOffset(ms: number): void {
    this.offsetMs = ms;
  }

  /** Moves the clock forward; a fixed clock stays fixed at the later instant. */
  advance(ms: number): void {
    if (this.fixed !== undefined) this.fixed += ms;
    else this.offsetMs += ms;
  }

  /** What the control surface reports. */
  describe(): { now: string; fixed: boolean; offsetMs: number } {
    return { now: this.now().toISOString(), fixed: this.fixed !== undefined, offsetMs: this.offsetMs };
  }
}
