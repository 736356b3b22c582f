import { describe, expect, it } from 'vitest';
import { priceFor } from './pricing.js';
import { readTask, readTaskId } from './read.js';

describe('lenient readers', () => {
  it('accepts the id and status spellings older servers use', () => {
    expect(readTaskId({ task_id: 'tk-hiapi-A' })).toBe('tk-hiapi-A');
    expect(readTaskId({ id: 'tk-hiapi-B' })).toBe('tk-hiapi-B');
    const t = readTask({ id: 'tk-hiapi-C', status: 'succeeded', output: [{ data: 'data:image/png;base64,AAAA' }] });
    expect(t).toMatchObject({ taskId: 'tk-hiapi-C', status: 'success', completed: 0 });
    expect(t.output![0]).toMatchObject({ url: 'data:image/png;base64,AAAA', type: 'image' });
    expect(readTask({ taskId: 'x', status: 'failed' }).status).toBe('fail');
    expect(readTask({ taskId: 'x', status: 'paused' }).status).toBe('paused');
  });
});

describe('priceFor', () => {
  const rows = [
    { model_name: 'gpt-image-2/image-to-image', base_usd_value: 0.03, policies: [
      { rule: { resolution: { match: '4K' } }, usd_value: 0.06 },
      { rule: { resolution: { match: '2K' } }, usd_value: 0.04 },
    ] },
    { model_name: 'gpt-image-2-image-to-image-pro', base_usd_value: 0.4 },
  ];
  it('applies the first matching policy and knows both spellings of a model', () => {
    expect(priceFor(rows, 'gpt-image-2-image-to-image', { resolution: '1K' })).toBe(0.03);
    expect(priceFor(rows, 'gpt-image-2-image-to-image', { resolution: '4K' })).toBe(0.06);
    expect(priceFor(rows, 'gpt-image-2/image-to-image', { resolution: '2K' })).toBe(0.04);
    expect(priceFor(rows, 'gpt-image-2-image-to-image-pro', {})).toBe(0.4);
    expect(priceFor(rows, 'unknown-model', {})).toBeUndefined();
  });
});
