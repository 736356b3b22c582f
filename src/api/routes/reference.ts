import type { FastifyInstance } from 'fastify';
import { openApiDocument } from '../../contract/openapi.js';
import { configuredEngines } from '../../config.js';
import type { ServerDeps } from '../server.js';

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  const?: unknown;
  oneOf?: Schema[];
  anyOf?: Schema[];
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
};

const esc = (s: unknown) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** One line of a schema's constraints: its type, allowed values, bounds and default. */
function facts(s: Schema): string {
  const parts: string[] = [];
  const type = s.type ?? (s.anyOf ? s.anyOf.map((a) => a.type).filter(Boolean).join(' | ') : s.oneOf ? 'one of' : '');
  if (type) parts.push(Array.isArray(type) ? type.join(' | ') : type);
  if (s.enum) parts.push(s.enum.map((v) => JSON.stringify(v)).join(', '));
  if (s.items?.enum) parts.push(`of ${s.items.enum.map((v) => JSON.stringify(v)).join(', ')}`);
  if (s.const !== undefined) parts.push(JSON.stringify(s.const));
  const range = (lo?: number, hi?: number, unit = '') => (lo !== undefined || hi !== undefined ? `${lo ?? ''}…${hi ?? ''}${unit}` : '');
  for (const r of [range(s.minimum, s.maximum), range(s.minLength, s.maxLength, ' chars'), range(s.minItems, s.maxItems, ' items')]) if (r) parts.push(r);
  if (s.pattern) parts.push(`/${s.pattern}/`);
  if (s.default !== undefined) parts.push(`default ${JSON.stringify(s.default)}`);
  return parts.join(' · ');
}

/** A schema as nested lists: each property with its facts and description. */
function render(s: Schema, depth = 0): string {
  if (depth > 6) return '';
  const inner = s.anyOf?.find((a) => a.type === 'object') ?? s;
  if (inner.items) return render(inner.items, depth);
  if (!inner.properties) return '';
  const rows = Object.entries(inner.properties).map(([name, p]) => {
    const req = inner.required?.includes(name) ? ' <em>required</em>' : '';
    const desc = p.description ? ` — ${esc(p.description)}` : '';
    return `<li><code>${esc(name)}</code>${req} <small>${esc(facts(p))}</small>${desc}${render(p, depth + 1)}</li>`;
  });
  return `<ul>${rows.join('')}</ul>`;
}

/** The OpenAPI document at /openapi.json, and the same document as a readable page at /docs/api. */
export function registerReferenceRoutes(app: FastifyInstance, deps: ServerDeps): void {
  // `route` lists only what this server accepts: default and the engines it configured
  const doc = openApiDocument(deps.version, { routes: ['default', ...configuredEngines(deps.config.engines)] });
  const page = referencePage(doc);
  app.get('/openapi.json', async () => doc);
  app.get('/docs/api', async (_req, reply) => reply.type('text/html; charset=utf-8').send(page));
}

export function referencePage(doc: Record<string, unknown>): string {
  const info = doc.info as { title: string; version: string; description: string };
  const paths = doc.paths as Record<string, Record<string, { summary: string; parameters?: Array<{ name: string; in: string; description?: string; schema: Schema }>; requestBody?: { content: Record<string, { schema: Schema }> }; responses: Record<string, { description: string; content?: Record<string, { schema: Schema }> }> }>>;
  const sections: string[] = [];
  for (const [path, ops] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const params = (op.parameters ?? []).map((p) => `<li><code>${esc(p.name)}</code> (${esc(p.in)}) <small>${esc(facts(p.schema))}</small>${p.description ? ` — ${esc(p.description)}` : ''}</li>`);
      const bodies = Object.entries(op.requestBody?.content ?? {}).flatMap(([type, c]) =>
        (c.schema.oneOf ?? [c.schema]).map((s) => `<h4>Body (${esc(type)})${s.description ? `: ${esc(s.description)}` : ''}</h4>${render(s) || `<p><small>${esc(facts(s))}</small></p>`}`),
      );
      const responses = Object.entries(op.responses).map(([status, r]) => {
        const schema = r.content?.['application/json']?.schema;
        const data = schema?.properties?.data;
        return `<li><b>${esc(status)}</b> ${esc(r.description)}${status === '200' && data ? render(data) : ''}</li>`;
      });
      sections.push(
        `<section><h3><span class="m">${method.toUpperCase()}</span> <code>${esc(path)}</code></h3><p>${esc(op.summary)}</p>` +
          (params.length ? `<h4>Parameters</h4><ul>${params.join('')}</ul>` : '') +
          bodies.join('') +
          `<h4>Responses</h4><ul>${responses.join('')}</ul></section>`,
      );
    }
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(info.title)} API ${esc(info.version)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}code{background:#f3f3f1;padding:0 .25em;border-radius:3px}section{border-top:1px solid #ddd;padding-top:.5rem}.m{font:600 13px monospace;background:#222;color:#fff;padding:.1em .4em;border-radius:3px}small{color:#666}ul{padding-left:1.2rem}</style></head>
<body><h1>${esc(info.title)} API <small>${esc(info.version)}</small></h1><p>${esc(info.description)}</p><p>Every answer is the envelope <code>{code, message, data}</code>; errors carry <code>data: null</code> and <code>error_code</code>. The machine-readable document is <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
${sections.join('\n')}</body></html>`;
}
