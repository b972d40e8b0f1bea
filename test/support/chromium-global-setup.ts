/** Vitest global setup of the `browser` project: installs Chromium first when it is missing (see install-chromium.sh). */
import { ensureChromium } from './chromium.ts';

/** Makes sure the browser is there before any browser test starts. */
export default function setup(): void {
  ensureChromium();
}
