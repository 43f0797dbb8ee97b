import type { Clock } from "./clock.js";

/**
 * An attempt's timers, on the supervisor's clock: its wall-clock limit, its idle limit (restarted by
 * every sign of life), and a stop's escalation (SIGTERM once the grace period has passed, SIGKILL
 * after another). `clear` cancels them all once the attempt has ended.
 */
export class Watchdogs {
  private readonly cancels: (() => void)[] = [];
  private cancelIdle: (() => void) | undefined;

  constructor(private readonly clock: Clock) {}

  /** Calls `fn` once `seconds` have passed since the agent started. */
  wall(seconds: number, fn: () => void): void {
    this.cancels.push(this.clock.after(seconds * 1000, fn));
  }

  /** (Re)starts the idle timer: `fn` runs once `seconds` pass without another call. */
  idle(seconds: number, fn: () => void): void {
    this.cancelIdle?.();
    this.cancelIdle = this.clock.after(seconds * 1000, fn);
  }

  /** Stops the idle timer: the attempt is stopping, or has ended. */
  quiet(): void {
    this.cancelIdle?.();
    this.cancelIdle = undefined;
  }

  /** A stop's escalation: `signal("SIGTERM")` after `graceMs`, `signal("SIGKILL")` after twice that. */
  escalate(graceMs: number, signal: (name: NodeJS.Signals) => void): void {
    this.cancels.push(
      this.clock.after(graceMs, () => signal("SIGTERM")),
      this.clock.after(graceMs * 2, () => signal("SIGKILL")),
    );
  }

  /** Cancels every timer. */
  clear(): void {
    for (const cancel of this.cancels.splice(0)) cancel();
    this.quiet();
  }
}
