import { CronExpressionParser } from 'cron-parser';
import { parseTimeSpan } from './host-config';

/** When a timer fires: an NCRONTAB expression (six fields, seconds first) or a constant TimeSpan interval. */
export interface TimerSchedule {
  /** The first occurrence strictly after `from`. */
  next(from: Date): Date;
  /** The last occurrence at or before `from` (for ScheduleStatus.Last). */
  previous(from: Date): Date;
}

export function parseTimerSchedule(expression: string, timeZone = 'UTC'): TimerSchedule {
  const trimmed = expression.trim();
  if (/^(\d+\.)?\d{1,2}:\d{1,2}:\d{1,2}$/.test(trimmed)) {
    const interval = parseTimeSpan(trimmed);
    if (interval <= 0) {
      throw new Error(`Timer schedule '${expression}' must be a positive interval`);
    }
    return {
      next: (from) => new Date(from.getTime() + interval),
      previous: (from) => new Date(from.getTime() - interval),
    };
  }
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 6) {
    // The runtime only accepts six-field NCRONTAB; a five-field cron would silently mean something else.
    throw new Error(`Timer schedule '${expression}' must have six fields (NCRONTAB: {second} {minute} {hour} {day} {month} {day-of-week})`);
  }
  const parse = (from: Date) => CronExpressionParser.parse(trimmed, { currentDate: from, tz: timeZone });
  parse(new Date());
  return {
    next: (from) => parse(from).next().toDate(),
    previous: (from) => parse(new Date(from.getTime() + 1)).prev().toDate(),
  };
}
