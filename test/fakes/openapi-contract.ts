/**
 * Checks HTTP traffic against an OpenAPI description (3.0 or 3.1), so a loopback fake refuses what the real
 * service would refuse: an unknown path or method, a path or query parameter of the wrong type, a missing
 * required query parameter, a request body that does not match the operation's schema. Fakes call
 * `checkRequest` on every request and may call `checkResponse` on what they answer.
 *
 * Validators are compiled lazily per operation and cached: GitHub's description has ~800 paths and we touch a
 * dozen. Schemas are compiled from the spec in place (by JSON pointer), so `#/components/...` refs resolve.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type Options, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsModule, { type FormatsPlugin } from 'ajv-formats';

type Json = Record<string, unknown>;
type Values = Record<string, string | string[] | undefined>;

/** One request as a fake received it; `body` is the parsed JSON body, undefined when there was none. */
export interface RequestToCheck {
  method: string;
  path: string;
  query?: Values;
  headers?: Values;
  body?: unknown;
}

/** The operation a request matched (when it matched one) and what was wrong with the request. */
export interface RequestCheck {
  operationId?: string;
  pathTemplate?: string;
  /** Decoded path parameters of the matched template (a fake routes on these). */
  params?: Record<string, string>;
  violations: string[];
}

/** A loaded OpenAPI description that checks requests and responses. */
export interface OpenApiContract {
  checkRequest(req: RequestToCheck): RequestCheck;
  /** Check a response body against the documented response for `status` (or its `2XX`/`default` entry). */
  checkResponse(method: string, pathTemplate: string, status: number, body: unknown): string[];
}

export interface LoadContractOptions {
  /** Removed from the start of each concrete path before matching (a fake served under a prefix). */
  stripPrefix?: string;
}

interface Segment {
  literal?: string;
  param?: string;
  pattern?: RegExp;
  multi?: boolean;
}

interface Route {
  template: string;
  pointer: string;
  item: Json;
  segments: Segment[];
  /** Literal segments win over parameters when several templates match: '1' literal, '0' parameter. */
  rank: string;
}

interface Param {
  name: string;
  in: string;
  required: boolean;
  schemaPointer?: string;
}

const SPEC_ID = 'urn:openapi-contract:spec';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
// Per OpenAPI, header parameters with these names are ignored: they are described elsewhere.
const IGNORED_HEADERS = new Set(['accept', 'content-type', 'authorization']);
const addFormats = ((formatsModule as unknown as { default?: FormatsPlugin }).default ??
  formatsModule) as unknown as FormatsPlugin;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const escapePart = (part: string): string => encodeURIComponent(part.replace(/~/g, '~0').replace(/\//g, '~1'));
const pointerOf = (...parts: string[]): string => parts.map((p) => `/${escapePart(p)}`).join('');

/**
 * OpenAPI 3.0 says `nullable: true`; JSON Schema says `type: 'null'`. Ajv refuses `nullable` without `type`
 * (GitHub has 135 of those), so rewrite them all into plain JSON Schema once, on a copy.
 */
function rewriteNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteNullable);
  if (!isObject(node)) return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) if (key !== 'nullable') out[key] = rewriteNullable(value);
  if (node.nullable !== true) return out;
  if (typeof out.type === 'string') {
    out.type = [out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    return out;
  }
  return { anyOf: [out, { type: 'null' }] };
}

function toSegments(template: string, multiNames: Set<string>): Segment[] {
  return template
    .split('/')
    .slice(1)
    .map((part) => {
      const whole = /^\{([^}]+)\}$/.exec(part);
      if (whole?.[1]) return { param: whole[1], multi: multiNames.has(whole[1]) };
      if (!part.includes('{')) return { literal: part };
      const source = part.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, '(?<$1>[^/]+)');
      return { pattern: new RegExp(`^${source}$`) };
    });
}

/** Match concrete path parts against a template; multi-segment parameters may take several parts. */
function matchRoute(route: Route, parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  const go = (i: number, j: number): boolean => {
    const seg = route.segments[i];
    if (!seg) return j === parts.length;
    const part = parts[j];
    if (part === undefined) return false;
    if (seg.literal !== undefined) return seg.literal === part && go(i + 1, j + 1);
    if (seg.pattern) {
      const m = seg.pattern.exec(part);
      if (!m) return false;
      Object.assign(params, m.groups);
      return go(i + 1, j + 1);
    }
    const most = seg.multi ? parts.length - j - (route.segments.length - i - 1) : 1;
    for (let take = most; take >= 1; take--) {
      const taken = parts.slice(j, j + take);
      if (taken.some((p) => p === '')) continue;
      params[seg.param ?? ''] = taken.join('/');
      if (go(i + 1, j + take)) return true;
    }
    return false;
  };
  return go(0, 0) ? params : undefined;
}

function firstJsonMedia(content: unknown): string | undefined {
  if (!isObject(content)) return undefined;
  return Object.keys(content).find((m) => m === '*/*' || /^application\/(.+\+)?json/.test(m));
}

/** Load an OpenAPI 3.0 or 3.1 description (the object is not modified) into a contract checker. */
export function loadContract(spec: object, options: LoadContractOptions = {}): OpenApiContract {
  const raw = spec as Json;
  const is31 = String(raw.openapi ?? '').startsWith('3.1');
  const doc = (is31 ? { ...raw } : rewriteNullable(raw)) as Json;
  const paths = (isObject(doc.paths) ? doc.paths : {}) as Record<string, Json>;

  const ajvOptions: Options = { strict: false, allErrors: true, validateSchema: false, logger: false };
  const makeAjv = (extra: Options) => {
    const ajv = is31 ? new Ajv2020({ ...ajvOptions, ...extra }) : new Ajv({ ...ajvOptions, ...extra });
    addFormats(ajv);
    ajv.addSchema({ ...doc, $id: SPEC_ID });
    return ajv;
  };
  const bodyAjv = makeAjv({});
  // Parameters arrive as strings: coerce to the schema's type ('array' also wraps a lone value) before checking.
  const paramAjv = makeAjv({ coerceTypes: 'array' });
  const cache = new Map<string, ValidateFunction>();
  const validator = (ajv: Ajv | Ajv2020, pointer: string, wrap: boolean): ValidateFunction => {
    const key = `${wrap}:${pointer}`;
    let fn = cache.get(key);
    if (!fn) {
      const ref = { $ref: `${SPEC_ID}#${pointer}` };
      fn = ajv.compile(wrap ? { type: 'object', properties: { v: ref } } : ref);
      cache.set(key, fn);
    }
    return fn;
  };

  /** Follow a local `$ref` (components/parameters, requestBodies, responses), keeping its JSON pointer. */
  const deref = (value: unknown, pointer: string): { value: Json; pointer: string } | undefined => {
    let current = value;
    let at = pointer;
    for (let hops = 0; isObject(current) && typeof current.$ref === 'string' && hops < 10; hops++) {
      const ref = current.$ref;
      if (!ref.startsWith('#/')) return undefined;
      const parts = ref
        .slice(2)
        .split('/')
        .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
      current = parts.reduce<unknown>((node, key) => (isObject(node) ? node[key] : undefined), doc);
      at = pointerOf(...parts);
    }
    return isObject(current) ? { value: current, pointer: at } : undefined;
  };

  const paramsOf = (route: Route, method: string): Param[] => {
    const byKey = new Map<string, Param>();
    const collect = (list: unknown, base: string) => {
      if (!Array.isArray(list)) return;
      list.forEach((entry, index) => {
        const found = deref(entry, `${base}/parameters/${index}`);
        if (!found || typeof found.value.name !== 'string' || typeof found.value.in !== 'string') return;
        const { name, in: where, required, schema } = found.value;
        const param: Param = { name, in: where, required: required === true };
        if (schema !== undefined) param.schemaPointer = `${found.pointer}/schema`;
        byKey.set(`${where}:${where === 'header' ? name.toLowerCase() : name}`, param);
      });
    };
    collect(route.item.parameters, route.pointer);
    collect((route.item[method] as Json).parameters, `${route.pointer}/${method}`);
    return [...byKey.values()];
  };

  const routes: Route[] = Object.entries(paths).map(([template, item]) => {
    const multi = new Set<string>();
    const lists = [item.parameters, ...METHODS.map((m) => (isObject(item[m]) ? (item[m] as Json).parameters : []))];
    for (const list of lists) {
      if (!Array.isArray(list)) continue;
      for (const [i, entry] of list.entries()) {
        const p = deref(entry, `/${i}`)?.value;
        if (p?.['x-multi-segment'] === true && typeof p.name === 'string') multi.add(p.name);
      }
    }
    const segments = toSegments(template, multi);
    const rank = segments.map((s) => (s.literal !== undefined ? '1' : '0')).join('');
    return { template, pointer: pointerOf('paths', template), item, segments, rank };
  });
  const byTemplate = new Map(routes.map((r) => [r.template, r]));

  const errorsOf = (fn: ValidateFunction, what: string): string[] =>
    (fn.errors ?? []).slice(0, 5).map((e) => `${what}${e.instancePath.replace(/^\/v(?=\/|$)/, '')} ${e.message}`);

  const checkValue = (pointer: string, value: unknown, what: string): string[] => {
    const fn = validator(paramAjv, pointer, true);
    return fn({ v: value }) ? [] : errorsOf(fn, what);
  };

  const checkRequest = (req: RequestToCheck): RequestCheck => {
    const method = req.method.toLowerCase();
    let path = req.path.split('?')[0] ?? '';
    if (options.stripPrefix && path.startsWith(options.stripPrefix)) path = path.slice(options.stripPrefix.length);
    const parts = path.split('/').slice(1);
    const label = `${req.method.toUpperCase()} ${path}`;
    let best: { route: Route; params: Record<string, string> } | undefined;
    for (const route of routes) {
      const params = matchRoute(route, parts);
      if (!params) continue;
      if (!best || route.rank > best.route.rank) best = { route, params };
    }
    if (!best) return { violations: [`${label}: no such path in the description`] };
    const { route } = best;
    const op = route.item[method];
    if (!isObject(op)) {
      return { pathTemplate: route.template, violations: [`${label}: ${route.template} has no ${method} operation`] };
    }
    const violations: string[] = [];
    const params: Record<string, string> = {};
    for (const [name, rawValue] of Object.entries(best.params)) {
      try {
        params[name] = decodeURIComponent(rawValue);
      } catch {
        violations.push(`${label}: path parameter ${name} is not valid percent-encoding`);
      }
    }
    const headers = Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    for (const param of paramsOf(route, method)) {
      let value: unknown;
      if (param.in === 'path') value = params[param.name];
      else if (param.in === 'query') value = req.query?.[param.name];
      else if (param.in === 'header' && !IGNORED_HEADERS.has(param.name.toLowerCase())) {
        value = headers[param.name.toLowerCase()];
      } else continue;
      if (value === undefined) {
        if (param.required) violations.push(`${label}: required ${param.in} parameter ${param.name} is missing`);
        continue;
      }
      if (param.schemaPointer) {
        violations.push(...checkValue(param.schemaPointer, value, `${label}: ${param.in} parameter ${param.name}`));
      }
    }
    violations.push(...checkBody(route, method, op, req.body, label));
    const result: RequestCheck = { pathTemplate: route.template, params, violations };
    if (typeof op.operationId === 'string') result.operationId = op.operationId;
    return result;
  };

  const checkBody = (route: Route, method: string, op: Json, body: unknown, label: string): string[] => {
    const found =
      op.requestBody === undefined ? undefined : deref(op.requestBody, `${route.pointer}/${method}/requestBody`);
    if (!found) return body === undefined ? [] : [`${label}: the operation takes no request body`];
    if (body === undefined) return found.value.required === true ? [`${label}: required request body is missing`] : [];
    const media = firstJsonMedia(found.value.content);
    if (!media) return [];
    const fn = validator(bodyAjv, `${found.pointer}/content/${escapePart(media)}/schema`, false);
    return fn(body) ? [] : errorsOf(fn, `${label}: body`);
  };

  const checkResponse = (method: string, pathTemplate: string, status: number, body: unknown): string[] => {
    const m = method.toLowerCase();
    const route = byTemplate.get(pathTemplate);
    const op = route?.item[m];
    const label = `${method.toUpperCase()} ${pathTemplate} -> ${status}`;
    if (!route || !isObject(op) || !isObject(op.responses)) return [`${label}: no such operation`];
    const responses = op.responses;
    const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => responses[k] !== undefined);
    if (!key) return [`${label}: status not documented`];
    const found = deref(responses[key], `${route.pointer}/${m}/responses/${key}`);
    const media = firstJsonMedia(found?.value.content);
    if (!found || !media) return [];
    if (body === undefined) return [`${label}: documented body is missing`];
    const fn = validator(bodyAjv, `${found.pointer}/content/${escapePart(media)}/schema`, false);
    return fn(body) ? [] : errorsOf(fn, `${label}: body`);
  };

  return { checkRequest, checkResponse };
}

let gitHubDescription: Json | undefined;
let gitHubContract: OpenApiContract | undefined;

/** GitHub's official api.github.com description (OpenAPI 3.0) from @octokit/openapi, parsed once per process. */
export function loadGitHubDescription(): Json {
  if (!gitHubDescription) {
    const require = createRequire(import.meta.url);
    const file = require.resolve('@octokit/openapi/generated/api.github.com.json');
    gitHubDescription = JSON.parse(readFileSync(file, 'utf8')) as Json;
  }
  return gitHubDescription;
}

/** The contract for api.github.com, built once per process. */
export function loadGitHubContract(): OpenApiContract {
  gitHubContract ??= loadContract(loadGitHubDescription());
  return gitHubContract;
}
