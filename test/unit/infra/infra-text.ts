/**
 * Offline readers for the deployment assets under infra/. No Bicep CLI can be installed here (it is published on
 * NuGet and GitHub only, neither reachable), so templates are inspected as text (Bicep) and JSON (ARM, parameters).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { z } from 'zod';

export const repo = join(__dirname, '..', '..', '..');
export const infra = join(repo, 'infra');
export const read = (...parts: string[]): string => readFileSync(join(...parts), 'utf8');
export const readJson = (...parts: string[]): unknown => JSON.parse(read(...parts)) as unknown;

export type Json = Record<string, unknown>;

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function rec(value: unknown, what: string): Json {
  if (!isRecord(value)) {
    throw new Error(`${what} is not an object`);
  }
  return value;
}

export function at(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    current = isRecord(current) ? current[key] : undefined;
  }
  return current;
}

export function arr(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) {
    throw new Error(`${what} is not an array`);
  }
  return value as unknown[];
}

/** The object schema inside `configSchema`, whether zod keeps refinements on the object or wraps it. */
export function configShape(schema: unknown): Record<string, z.ZodType> {
  let current: unknown = schema;
  for (let depth = 0; depth < 8; depth += 1) {
    if (current instanceof z.ZodObject) {
      return current.shape;
    }
    if (current instanceof z.ZodPipe) {
      current = current.in;
      continue;
    }
    const inner = at(current, '_def', 'schema') ?? at(current, '_def', 'in') ?? at(current, '_def', 'innerType');
    if (inner === undefined) {
      break;
    }
    current = inner;
  }
  throw new Error('configSchema holds no object schema');
}

/** Bicep without `//` comments, so commented-out text cannot satisfy a check. */
export function withoutComments(bicep: string): string {
  return bicep
    .split('\n')
    .map((line) => line.replace(/(^|\s)\/\/.*$/, ''))
    .join('\n');
}

export interface BicepParam {
  name: string;
  type: string;
  defaultText?: string;
  secure: boolean;
  allowed?: string;
}

export function bicepParams(text: string): Map<string, BicepParam> {
  const params = new Map<string, BicepParam>();
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    const match = /^param\s+(\w+)\s+(\w+)(?:\s*=\s*(.+?))?\s*$/.exec(line);
    if (match?.[1] === undefined || match[2] === undefined) {
      return;
    }
    let secure = false;
    let allowed: string | undefined;
    for (let i = index - 1; i >= 0 && (lines[i] ?? '').startsWith('@'); i -= 1) {
      secure ||= (lines[i] ?? '').startsWith('@secure()');
      allowed ??= /^@allowed\((.*)\)$/.exec(lines[i] ?? '')?.[1];
    }
    params.set(match[1], { name: match[1], type: match[2], defaultText: match[3], secure, allowed });
  });
  return params;
}

/** The body of `name: '<configName>'` + `properties: { … }` of a config resource, as `NAME -> expression text`. */
export function configPropertiesOf(text: string, configName: string): Map<string, string> {
  const start = text.indexOf(`name: '${configName}'`);
  expect(start, `a ${configName} config resource`).toBeGreaterThan(0);
  const open = text.indexOf('properties: {', start);
  let depth = 0;
  let end = -1;
  for (let i = open + 'properties: '.length; i < text.length; i += 1) {
    const ch = text[i];
    if (ch === '{') {
      depth += 1;
    } else if (ch === '}') {
      depth -= 1;
      if (depth === 0) {
        end = i;
        break;
      }
    }
  }
  expect(end).toBeGreaterThan(open);
  const body = text.slice(open + 'properties: {'.length, end);
  const settings = new Map<string, string>();
  for (const line of body.split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*):\s*(.+?)\s*$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) {
      expect(settings.has(match[1]), `${match[1]} set twice`).toBe(false);
      settings.set(match[1], match[2]);
    }
  }
  return settings;
}

/** A Bicep literal default as the string the app would read from its environment. */
export function defaultAsEnvText(param: BicepParam): string | undefined {
  const text = param.defaultText;
  if (text === undefined) {
    return undefined;
  }
  const quoted = /^'((?:[^'\\]|\\.)*)'$/.exec(text);
  if (quoted?.[1] !== undefined) {
    return quoted[1].replace(/\\(.)/g, '$1');
  }
  if (/^-?\d+$/.test(text) || text === 'true' || text === 'false') {
    return text;
  }
  return undefined;
}
