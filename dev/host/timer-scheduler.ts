import type { RpcTypedData } from './core-types';
import type { FunctionRunner } from './function-runner';
import { stringOption, type HostedFunction } from './hosted-function';
import type { HostLogger } from './host-logger';
import { parseTimerSchedule, type TimerSchedule } from './timer-schedule';

/** Longest delay setTimeout accepts; longer waits are split. */
const MAX_TIMEOUT_MS = 2_147_483_647;

/**
 * Fires timer-triggered functions on their schedules. Like the runtime, a timer never overlaps itself: the next
 * occurrence is computed after the previous run finished.
 */
export class TimerScheduler {
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #schedules = new Map<string, TimerSchedule>();
  readonly #runner: FunctionRunner;
  readonly #logger: HostLogger;
  #stopped = false;

  constructor(functions: HostedFunction[], runner: FunctionRunner, logger: HostLogger, timeZone: string) {
    this.#runner = runner;
    this.#logger = logger;
    for (const fn of functions) {
      if (fn.triggerType === 'timertrigger') {
        this.#schedules.set(fn.name, parseTimerSchedule(stringOption(fn.trigger, 'schedule') ?? '', timeZone));
      }
    }
  }

  /** The trigger payload the runtime sends (PascalCase; the library camel-cases it to `Timer`). */
  timerInput(fn: HostedFunction, scheduledFor: Date, now = new Date()): RpcTypedData {
    const schedule = this.#schedule(fn);
    return {
      json: JSON.stringify({
        Schedule: { AdjustForDST: true },
        ScheduleStatus: {
          Last: schedule.previous(scheduledFor).toISOString(),
          Next: schedule.next(now).toISOString(),
          LastUpdated: now.toISOString(),
        },
        // The runtime flags runs that start noticeably after their due time (e.g. after the host was down).
        IsPastDue: now.getTime() - scheduledFor.getTime() > 1000,
      }),
    };
  }

  start(functions: HostedFunction[]): void {
    for (const fn of functions) {
      if (fn.triggerType !== 'timertrigger') {
        continue;
      }
      if (fn.trigger['runOnStartup'] === true) {
        const now = new Date();
        void this.#fire(fn, now, 'Timer fired at startup (runOnStartup)').finally(() => this.#scheduleNext(fn, now));
      } else {
        this.#scheduleNext(fn);
      }
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.values()) {
      clearTimeout(timer);
    }
    this.#timers.clear();
  }

  #schedule(fn: HostedFunction): TimerSchedule {
    const schedule = this.#schedules.get(fn.name);
    if (!schedule) {
      throw new Error(`Function '${fn.name}' is not timer-triggered`);
    }
    return schedule;
  }

  /** @param after the occurrence just handled; a timer that fired a hair early must not fire twice for it. */
  #scheduleNext(fn: HostedFunction, after?: Date): void {
    if (this.#stopped) {
      return;
    }
    const due = this.#schedule(fn).next(new Date(Math.max(Date.now(), after?.getTime() ?? 0)));
    this.#logger.info(`Timer '${fn.name}' next occurrence: ${due.toISOString()}`);
    const arm = (): void => {
      const wait = due.getTime() - Date.now();
      if (wait > MAX_TIMEOUT_MS) {
        this.#timers.set(fn.name, setTimeout(arm, MAX_TIMEOUT_MS));
        return;
      }
      this.#timers.set(
        fn.name,
        setTimeout(() => {
          void this.#fire(fn, due, `Timer fired at ${new Date().toISOString()}`).finally(() =>
            this.#scheduleNext(fn, due),
          );
        }, Math.max(0, wait)),
      );
    };
    arm();
  }

  async #fire(fn: HostedFunction, scheduledFor: Date, reason: string): Promise<void> {
    if (this.#stopped) {
      return;
    }
    try {
      await this.#runner.run(fn, { data: this.timerInput(fn, scheduledFor), reason });
    } catch {
      // Logged by the runner; a failed timer run is not retried, as in the runtime.
    }
  }
}
