import Module from 'node:module';
import type {
  FunctionCallback,
  FunctionMetadata,
  HookCallback,
  HookName,
  ProgrammingModel,
  RpcLogCategory,
  RpcLogLevel,
} from './core-types';

export interface RegisteredFunction {
  metadata: FunctionMetadata;
  callback: FunctionCallback;
}

export type SystemLogSink = (level: RpcLogLevel, category: RpcLogCategory, message: string) => void;

/** Same contract as the worker's `Disposable`: dispose runs its callback once. */
export class Disposable {
  static from(...disposables: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => disposables.forEach((d) => d.dispose()));
  }

  #onDispose: (() => unknown) | undefined;

  constructor(onDispose: () => unknown) {
    this.#onDispose = onDispose;
  }

  dispose(): unknown {
    const fn = this.#onDispose;
    this.#onDispose = undefined;
    return fn?.();
  }
}

const knownHooks: readonly HookName[] = ['preInvocation', 'postInvocation', 'appStart', 'appTerminate', 'log'];

/**
 * What `require('@azure/functions-core')` returns inside this host. `@azure/functions` caches that module (and sets
 * its programming model only once per process), so one instance serves the whole process; a host that reloads the
 * app calls {@link resetRegistrations} first.
 */
export class CoreApiStandIn {
  readonly version = '3.10.1';
  readonly hostVersion = '4.1000.0';
  readonly Disposable = Disposable;

  readonly functions = new Map<string, RegisteredFunction>();
  readonly hooks = new Map<HookName, Set<HookCallback>>(knownHooks.map((h) => [h, new Set<HookCallback>()]));
  #programmingModel: ProgrammingModel | undefined;
  #logSink: SystemLogSink = (level, category, message) => console.log(`[${level}] [${category}] ${message}`);

  registerFunction = (metadata: FunctionMetadata, callback: FunctionCallback): Disposable => {
    // The worker rejects duplicates with the same wording; duplicates usually mean two files register one name.
    if (this.functions.has(metadata.name)) {
      throw new Error(`A function with name "${metadata.name}" has already been registered.`);
    }
    this.functions.set(metadata.name, { metadata, callback });
    return new Disposable(() => this.functions.delete(metadata.name));
  };

  registerHook = (hookName: string, callback: HookCallback): Disposable => {
    const set = this.hooks.get(hookName as HookName);
    if (!set) {
      // The library turns a RangeError here into "requires a newer host", as the worker does for unknown hooks.
      throw new RangeError(`Unrecognized hook "${hookName}"`);
    }
    set.add(callback);
    return new Disposable(() => set.delete(callback));
  };

  setProgrammingModel = (model: ProgrammingModel): void => {
    this.#programmingModel = model;
  };

  getProgrammingModel = (): ProgrammingModel => {
    if (!this.#programmingModel) {
      throw new Error('No programming model was set: did the app require "@azure/functions" and register a function?');
    }
    return this.#programmingModel;
  };

  hasProgrammingModel(): boolean {
    return this.#programmingModel !== undefined;
  }

  log = (level: RpcLogLevel, category: RpcLogCategory, message: string): void => {
    this.#logSink(level, category, message);
  };

  setLogSink(sink: SystemLogSink): void {
    this.#logSink = sink;
  }

  /** Forget functions and hooks from an earlier load, so the app's files can be required again in this process. */
  resetRegistrations(): void {
    this.functions.clear();
    for (const set of this.hooks.values()) {
      set.clear();
    }
  }
}

interface ModuleInternals {
  _load: (request: string, parent: unknown, isMain: boolean) => unknown;
}

let instance: CoreApiStandIn | undefined;

/**
 * Makes `require('@azure/functions-core')` return the stand-in, the way the real worker injects its API. Patching
 * `Module._load` (not `require.cache`) matters: the package does not exist on disk, so resolution must never run.
 */
export function installCoreApiStandIn(): CoreApiStandIn {
  if (instance) {
    return instance;
  }
  const api = new CoreApiStandIn();
  const internals = Module as unknown as ModuleInternals;
  const originalLoad = internals._load;
  internals._load = (request: string, parent: unknown, isMain: boolean): unknown =>
    request === '@azure/functions-core' ? api : originalLoad.call(Module, request, parent, isMain);
  instance = api;
  return api;
}
