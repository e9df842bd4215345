import { getConfig } from '../config';
import { startTelemetry } from './start-telemetry';

/**
 * Imported first by every file in `functions/` (a unit test checks it), so telemetry starts before any function is
 * registered, whichever file the host loads first: under `func start`, `npm start` and in Azure alike. Bad settings
 * are left to the functions, which report them naming each setting.
 */
try {
  startTelemetry(getConfig());
} catch {
  // Reported by the first function that reads the settings.
}
