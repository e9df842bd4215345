import type { RegisteredFunction } from './core-api-stand-in';
import type { FunctionCallback, FunctionMetadata, RpcBindingInfo } from './core-types';
import { resolveBindingExpression } from './resolve-binding-expression';

/** A registered function with its binding expressions resolved and its trigger picked out. */
export interface HostedFunction {
  name: string;
  metadata: FunctionMetadata;
  callback: FunctionCallback;
  triggerName: string;
  trigger: RpcBindingInfo;
  /** Lower-case trigger type, e.g. `httptrigger`, `queuetrigger`, `timertrigger`. */
  triggerType: string;
  /**
   * Turned off by the app setting `AzureWebJobs.<name>.Disabled` (`true` or `1`), as in Azure: no route, no queue
   * listener, no timer; the admin API can still run it.
   */
  disabled: boolean;
}

/** What `GET /admin/functions` and the startup banner show for a function. */
export interface FunctionInfo {
  name: string;
  trigger: string;
  route?: string;
  methods?: string[];
  url?: string;
  queueName?: string;
  connection?: string;
  schedule?: string;
  runOnStartup?: boolean;
}

const structuralKeys = new Set(['name', 'type', 'direction', 'dataType', 'properties']);

export function toHostedFunction(registered: RegisteredFunction, env: NodeJS.ProcessEnv): HostedFunction {
  const bindings: Record<string, RpcBindingInfo> = {};
  for (const [bindingName, binding] of Object.entries(registered.metadata.bindings)) {
    const resolved: RpcBindingInfo = { ...binding };
    for (const [key, value] of Object.entries(binding)) {
      if (typeof value === 'string' && !structuralKeys.has(key)) {
        try {
          resolved[key] = resolveBindingExpression(value, env);
        } catch (err) {
          throw new Error(
            `Error indexing function '${registered.metadata.name}', binding '${bindingName}': ${errorMessage(err)}`,
          );
        }
      }
    }
    bindings[bindingName] = resolved;
  }

  const triggerEntry = Object.entries(bindings).find(([, b]) => (b.type ?? '').toLowerCase().endsWith('trigger'));
  if (!triggerEntry) {
    throw new Error(`Function '${registered.metadata.name}' has no trigger binding`);
  }
  const [triggerName, trigger] = triggerEntry;
  return {
    name: registered.metadata.name,
    metadata: { ...registered.metadata, bindings },
    callback: registered.callback,
    triggerName,
    trigger,
    triggerType: (trigger.type ?? '').toLowerCase(),
    disabled: /^(true|1)$/i.test(env[`AzureWebJobs.${registered.metadata.name}.Disabled`] ?? ''),
  };
}

export function describeFunction(fn: HostedFunction, baseUrl: string, routePrefix: string): FunctionInfo {
  const info: FunctionInfo = { name: fn.name, trigger: fn.trigger.type ?? 'unknown' };
  if (fn.triggerType === 'httptrigger') {
    info.route = httpRouteOf(fn);
    const methods = fn.trigger['methods'];
    if (Array.isArray(methods)) {
      info.methods = methods.map((m) => String(m).toUpperCase());
    }
    info.url = `${baseUrl}/${routePrefix ? `${routePrefix}/` : ''}${info.route}`;
  } else if (fn.triggerType === 'queuetrigger') {
    info.queueName = stringOption(fn.trigger, 'queueName');
    info.connection = stringOption(fn.trigger, 'connection') ?? 'AzureWebJobsStorage';
  } else if (fn.triggerType === 'timertrigger') {
    info.schedule = stringOption(fn.trigger, 'schedule');
    info.runOnStartup = fn.trigger['runOnStartup'] === true;
  }
  return info;
}

/** The route template; the function name when none is declared, as in the runtime. */
export function httpRouteOf(fn: HostedFunction): string {
  return (stringOption(fn.trigger, 'route') ?? fn.name).replace(/^\/+/, '');
}

export function stringOption(binding: RpcBindingInfo, key: string): string | undefined {
  const value = binding[key];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
