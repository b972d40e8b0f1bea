/**
 * Gives each in-process handler invocation its own view of `process.env`.
 *
 * Handlers of different functions run concurrently in one process (a Distributed Map runs many
 * at once), each expecting the environment CDK configured for its function. Writing
 * `process.env` per call would let one invocation see another's variables, so while runs are
 * active `process.env` is a proxy that answers from the current invocation's variables
 * (tracked with AsyncLocalStorage) and falls back to the real environment.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

type Env = Record<string, string | undefined>;

const scope = new AsyncLocalStorage<Env>();
let installed: { original: NodeJS.ProcessEnv; users: number } | undefined;

function makeProxy(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const current = (): Env | undefined => scope.getStore();
  return new Proxy(base, {
    get(target, key) {
      const env = current();
      if (typeof key === 'string' && env && Object.hasOwn(env, key)) return env[key];
      return Reflect.get(target, key);
    },
    set(target, key, value) {
      const env = current();
      // Writes inside an invocation stay in that invocation, as they would in its own sandbox.
      if (typeof key === 'string' && env) {
        env[key] = String(value);
        return true;
      }
      return Reflect.set(target, key, value);
    },
    deleteProperty(target, key) {
      const env = current();
      if (typeof key === 'string' && env) {
        env[key] = undefined;
        return true;
      }
      return Reflect.deleteProperty(target, key);
    },
    has(target, key) {
      const env = current();
      if (typeof key === 'string' && env && Object.hasOwn(env, key)) return env[key] !== undefined;
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      const env = current();
      const keys = new Set(Reflect.ownKeys(target));
      for (const [k, v] of Object.entries(env ?? {})) {
        if (v === undefined) keys.delete(k);
        else keys.add(k);
      }
      return [...keys];
    },
    getOwnPropertyDescriptor(target, key) {
      const env = current();
      if (typeof key === 'string' && env && Object.hasOwn(env, key)) {
        const value = env[key];
        return value === undefined
          ? undefined
          : { value, writable: true, enumerable: true, configurable: true };
      }
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
  });
}

/** Installs the per-invocation environment for the duration of `body`. */
export async function withScopedEnv<T>(body: () => Promise<T>): Promise<T> {
  if (!installed) {
    installed = { original: process.env, users: 0 };
    process.env = makeProxy(installed.original);
  }
  installed.users += 1;
  try {
    return await body();
  } finally {
    installed.users -= 1;
    if (installed.users === 0) {
      process.env = installed.original;
      installed = undefined;
    }
  }
}

/** Runs `body` with `variables` layered over the process environment. */
export function runWithEnv<T>(
  variables: Readonly<Record<string, string>>,
  body: () => Promise<T>,
): Promise<T> {
  return scope.run({ ...variables }, body);
}
