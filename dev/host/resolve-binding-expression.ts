/**
 * Replaces `%SETTING%` with the app setting's value, as the runtime does for binding properties such as queueName,
 * schedule and connection. An unknown setting fails the function's indexing, as in Azure.
 */
export function resolveBindingExpression(value: string, env: NodeJS.ProcessEnv = process.env): string {
  return value.replace(/%([^%]+)%/g, (_whole, name: string) => {
    const setting = env[name];
    if (setting === undefined) {
      throw new Error(`'%${name}%' does not resolve to a value (app setting "${name}" is not set)`);
    }
    return setting;
  });
}
