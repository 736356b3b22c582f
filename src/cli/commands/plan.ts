import type { Command } from 'commander';
import type { ScenePlan } from '../../contract/scene.js';
import { planScene } from '../../plan/index.js';

/**
 * `reshoot plan "PROMPT" [--scene JSON] [--json]`: prints the ScenePlan a prompt becomes, so users
 * see which words were understood before rendering anything.
 */
export function register(program: Command): void {
  program
    .command('plan')
    .description('show the scene plan a prompt becomes (surface, backdrop, light, shadows, effects, framing) and the words it did not use')
    .argument('<prompt>', 'the prompt, as sent in input.prompt')
    .option('--scene <json>', 'explicit scene settings (a partial plan) that win over the prompt')
    .option('--json', 'print the plan as JSON')
    .action((prompt: string, flags: { scene?: string; json?: boolean }) => {
      let scene: unknown;
      if (flags.scene !== undefined) {
        try {
          scene = JSON.parse(flags.scene) as unknown;
        } catch {
          throw new Error('--scene must be a JSON object, e.g. \'{"light":{"from":"right"}}\'');
        }
      }
      const plan = planScene(prompt, { scene });
      process.stdout.write(flags.json ? `${JSON.stringify(plan, null, 2)}\n` : describePlan(plan));
    });
}

/** A short human summary: one line per part of the plan. */
export function describePlan(p: ScenePlan): string {
  const on = (v: number) => (v > 0 ? v.toFixed(2) : null);
  const effects = Object.entries(p.effects).filter(([, v]) => on(v)).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  const lines = [
    `style      ${p.style}${p.mood.length ? ` (${p.mood.join(', ')})` : ''}`,
    `product    ${p.product.description || '(not described)'}`,
    `surface    ${p.surface.material === 'none' ? 'none (floating)' : `${p.surface.tone} ${p.surface.material}`}, ${p.surface.finish} ${p.surface.color}`,
    `backdrop   ${p.backdrop.kind}${p.backdrop.environment !== 'none' ? ` ${p.backdrop.environment}` : ''} ${p.backdrop.color}, blur ${p.backdrop.blur}`,
    `light      from ${p.light.from} (azimuth ${p.light.azimuth}°, elevation ${p.light.elevation}°), hardness ${p.light.hardness}, ${p.light.temperature} K` +
      `${p.light.time_of_day !== 'any' ? `, ${p.light.time_of_day}` : ''}${p.light.rim.enabled ? ', rim' : ''}${p.light.pattern !== 'none' ? `, ${p.light.pattern} pattern` : ''}`,
    `shadow     ${p.shadow.cast ? `cast toward ${p.shadow.direction}°` : 'no cast'}, ${p.shadow.contact ? 'contact' : 'no contact'}, softness ${p.shadow.softness}, opacity ${p.shadow.opacity}`,
    `reflection ${p.reflection.enabled ? `yes (${p.reflection.strength})` : 'no'}`,
    `effects    ${effects}`,
    `framing    size ${p.framing.size}, ${p.framing.position}, camera ${p.framing.camera}`,
    `palette    ${p.palette.names.join(', ') || '-'}`,
    `understood ${p.words.understood.map((w) => w.text).join(' · ') || '-'}`,
    `unused     ${p.words.unused.join(', ') || '-'}`,
  ];
  return `${lines.join('\n')}\n`;
}
