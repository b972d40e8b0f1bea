// The Node.js the command line needs: jsforce's HTTP client (undici) and the local workflow runner
// need 22, and crash on an older one in ways that do not say so.

/** The oldest major version of Node.js the command line runs on. */
export const MIN_NODE_MAJOR = 22;

/**
 * What to tell a person running the command line on `version` of Node.js (at `execPath`), or
 * undefined when that Node.js will do.
 * @param {string} version
 * @param {string} execPath
 * @returns {string | undefined}
 */
export function nodeVersionProblem(version, execPath) {
  const major = Number(version.split('.')[0]);
  if (major >= MIN_NODE_MAJOR) return undefined;
  return (
    `sfbackup needs Node.js ${MIN_NODE_MAJOR} or later; this is Node.js ${version} (${execPath}).\n` +
    `Run it as "npx sfbackup ..." from the project directory (after "npm ci", npx runs the Node.js ${MIN_NODE_MAJOR} the project installs), or install Node.js ${MIN_NODE_MAJOR} or later.\n`
  );
}
