/**
 * Runs the emulator in a process of its own, so a measured client never shares its event loop or
 * its memory figures. Reads the options as JSON from argv[2]; prints one JSON line when ready.
 */
import { startEmulator, type StartEmulatorOptions } from '../emulator/index.ts';

const options = JSON.parse(process.argv[2] ?? '{}') as StartEmulatorOptions;
const started = performance.now();
const emulator = await startEmulator(options);
process.stdout.write(
  `${JSON.stringify({
    instanceUrl: emulator.instanceUrl,
    accessToken: emulator.accessToken,
    orgId: emulator.orgId,
    startSeconds: (performance.now() - started) / 1000,
  })}\n`,
);
const stop = () => {
  void emulator.stop().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Ends with the benchmark that started it, even when that one was killed.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop();
}, 1000).unref();
