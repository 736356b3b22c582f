import { describe, expect, it } from 'vitest';
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
