import { describe, expect, it } from 'vitest';
import { jsonDepthExceeds, parseJsonBody } from './json-body.js';

describe('jsonDepthExceeds', () => {
  const deep = (n: number) => Buffer.from('['.repeat(n) + ']'.repeat(n));
  it('counts arrays and objects, and nothing inside strings', () => {
    expect(jsonDepthExceeds(deep(3), 3)).toBe(false);
    expect(jsonDepthExceeds(deep(4), 3)).toBe(true);
    expect(jsonDepthExceeds(Buffer.from('{"a":{"b":[1,{"c":2}]}}'), 4)).toBe(false);
    expect(jsonDepthExceeds(Buffer.from('{"a":{"b":[1,{"c":2}]}}'), 3)).toBe(true);
    expect(jsonDepthExceeds(Buffer.from('{"p":"[[[[[[{{{{{"}'), 1)).toBe(false);
    expect(jsonDepthExceeds(Buffer.from('{"p":"say \\"[[[[\\" twice","q":"\\\\"}'), 1)).toBe(false);
    expect(jsonDepthExceeds(Buffer.from('[{"p":"\\\\"},[[1]]]'), 2)).toBe(true);
  });
});

describe('parseJsonBody', () => {
  it('reads UTF-8 JSON with or without a charset, and refuses other charsets', () => {
    expect(parseJsonBody(Buffer.from('{"a":"é"}'), 'application/json')).toEqual({ a: 'é' });
    expect(parseJsonBody(Buffer.from('{"a":1}'), 'application/json; charset=UTF-8')).toEqual({ a: 1 });
    expect(parseJsonBody(Buffer.from('{"a":1}'), undefined)).toEqual({ a: 1 });
    expect(parseJsonBody(Buffer.alloc(0), 'application/json')).toBeUndefined();
    expect(() => parseJsonBody(Buffer.from('{}'), 'application/json; charset=iso-8859-1')).toThrow(/charset iso-8859-1/);
    expect(() => parseJsonBody(Buffer.from('{"a":'), 'application/json')).toThrow('body: not valid JSON');
  });
});
