import { randomBytes, randomUUID } from 'node:crypto';
import type { CoreApiStandIn } from './core-api-stand-in';
import type {
  CoreInvocationContext,
  FunctionCallback,
  HookData,
  HookName,
  RpcInvocationResponse,
  RpcLogCategory,
  RpcLogLevel,
  RpcTypedData,
} from './core-types';
import { errorMessage, stringOption, type HostedFunction } from './hosted-function';
import type { HostLogger } from './host-logger';
import { encodeQueueMessage, typedDataToQueueMessages, type MessageEncoding } from './queue-message-codec';
import type { StorageQueues } from './storage-queues';

export interface TriggerInput {
  data: RpcTypedData;
  triggerMetadata?: Record<string, RpcTypedData>;
  /** Shown in the "Executing" line, like the runtime's `Reason=`. */
  reason: string;
  /** An incoming W3C `traceparent`, so a caller's trace continues into the invocation. */
  traceParent?: string;
}

export interface FunctionRunnerDeps {
  api: CoreApiStandIn;
  queues: StorageQueues;
  logger: HostLogger;
  messageEncoding: MessageEncoding;
  /** Shared by all hooks for the app's lifetime (`appHookData` in the worker). */
  appHookData: HookData;
}

/**
 * Runs one invocation the way the Node.js worker does: through the app's programming model (so the library's own
 * converters build the `HttpRequest`, `InvocationContext` and response), with pre/post invocation hooks, and then
 * does what the host does with the outputs: queue output bindings are written before the caller (HTTP response,
 * queue completion) learns the outcome, and a failed write fails the invocation.
 */
export class FunctionRunner {
  readonly #deps: FunctionRunnerDeps;
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(deps: FunctionRunnerDeps) {
    this.#deps = deps;
  }

  get inFlightCount(): number {
    return this.#inFlight.size;
  }

  async run(fn: HostedFunction, input: TriggerInput): Promise<RpcInvocationResponse> {
    const invocationId = randomUUID();
    const started = Date.now();
    const { logger } = this.#deps;
    logger.info(`Executing 'Functions.${fn.name}' (Reason='${input.reason}', Id=${invocationId})`);
    const invocation = this.#invoke(fn, invocationId, input);
    const tracked = invocation.catch(() => undefined);
    this.#inFlight.add(tracked);
    try {
      const response = await invocation;
      logger.info(`Executed 'Functions.${fn.name}' (Succeeded, Id=${invocationId}, Duration=${Date.now() - started}ms)`);
      return response;
    } catch (err) {
      logger.invocation(fn.name, invocationId, 'error', `Result: Failure Exception: ${describeError(err)}`);
      logger.error(`Executed 'Functions.${fn.name}' (Failed, Id=${invocationId}, Duration=${Date.now() - started}ms)`);
      throw err;
    } finally {
      this.#inFlight.delete(tracked);
    }
  }

  /** Waits for running invocations; false when some were still running at the deadline. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.#inFlight.size > 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        return false;
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(this.#inFlight),
        new Promise((resolve) => (timer = setTimeout(resolve, remaining))),
      ]);
      clearTimeout(timer);
    }
    return true;
  }

  async #invoke(fn: HostedFunction, invocationId: string, input: TriggerInput): Promise<RpcInvocationResponse> {
    const { api, appHookData } = this.#deps;
    // Log hooks see the InvocationContext, which only exists once getArguments() has run.
    const current: { context?: unknown } = {};
    const coreCtx: CoreInvocationContext = {
      invocationId,
      metadata: fn.metadata,
      request: {
        invocationId,
        functionId: fn.name,
        inputData: [{ name: fn.triggerName, data: input.data }],
        triggerMetadata: input.triggerMetadata ?? {},
        traceContext: { traceParent: input.traceParent ?? newTraceParent(), traceState: '', attributes: {} },
      },
      log: (level: RpcLogLevel, category: RpcLogCategory, message: string) =>
        this.#log(coreCtx, fn, level, category, message, current.context),
    };

    const model = api.getProgrammingModel().getInvocationModel(coreCtx);
    const { context, inputs } = await model.getArguments();
    current.context = context;

    // Same objects and order as the worker's InvocationHandler: hooks may replace inputs, the handler and result.
    const hookData: HookData = {};
    const pre: Record<string, unknown> = { hookData, appHookData, invocationContext: context, inputs, functionCallback: fn.callback };
    coreCtx.state = 'preInvocationHooks';
    await runHooks(api, 'preInvocation', pre);

    coreCtx.state = 'invocation';
    let result: unknown;
    let error: unknown;
    try {
      result = await model.invokeFunction(context, pre['inputs'] as unknown[], pre['functionCallback'] as FunctionCallback);
    } catch (err) {
      error = err;
    }

    const post: Record<string, unknown> = { hookData, appHookData, invocationContext: context, inputs: pre['inputs'], result, error };
    coreCtx.state = 'postInvocationHooks';
    try {
      await runHooks(api, 'postInvocation', post);
    } finally {
      coreCtx.state = undefined;
    }
    if (post['error'] !== undefined && post['error'] !== null) {
      // Rethrow exactly what the handler (or a hook) threw, as the worker does.
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      throw post['error'];
    }

    const response = await model.getResponse(context, post['result']);
    await this.#writeQueueOutputs(fn, response);
    return response;
  }

  async #writeQueueOutputs(fn: HostedFunction, response: RpcInvocationResponse): Promise<void> {
    for (const [name, binding] of Object.entries(fn.metadata.bindings)) {
      if (binding.direction !== 'out' || (binding.type ?? '').toLowerCase() !== 'queue') {
        continue;
      }
      const data = name === '$return' ? response.returnValue : response.outputData?.find((o) => o.name === name)?.data;
      const messages = typedDataToQueueMessages(data);
      if (messages.length === 0) {
        continue;
      }
      const queueName = stringOption(binding, 'queueName');
      if (!queueName) {
        throw new Error(`Output binding '${name}' of function '${fn.name}' has no queueName`);
      }
      try {
        await this.#deps.queues.send(
          stringOption(binding, 'connection'),
          queueName,
          messages.map((m) => encodeQueueMessage(m, this.#deps.messageEncoding)),
        );
      } catch (err) {
        throw new Error(`Error while handling parameter ${name} after function returned: ${errorMessage(err)}`, {
          cause: err,
        });
      }
    }
  }

  #log(
    coreCtx: CoreInvocationContext,
    fn: HostedFunction,
    level: RpcLogLevel,
    category: RpcLogCategory,
    message: string,
    invocationContext: unknown,
  ): void {
    const { api, logger, appHookData } = this.#deps;
    // Log hooks run synchronously and may rewrite level and message, as in the worker.
    const hookContext: Record<string, unknown> = {
      hookData: {},
      appHookData,
      level,
      category,
      message,
      invocationContext,
    };
    for (const hook of api.hooks.get('log') ?? []) {
      try {
        void hook(hookContext);
      } catch (err) {
        logger.warn(`Log hook failed: ${errorMessage(err)}`);
      }
    }
    logger.invocation(fn.name, coreCtx.invocationId, hookContext['level'] as RpcLogLevel, String(hookContext['message']));
  }
}

/** Runs the app's hooks of one kind in registration order; a failing hook fails whatever triggered it. */
export async function runHooks(api: CoreApiStandIn, name: HookName, context: Record<string, unknown>): Promise<void> {
  for (const hook of [...(api.hooks.get(name) ?? [])]) {
    await hook(context);
  }
}

function newTraceParent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}

function describeError(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
