import { describe, expect, it } from 'vitest';
import { ApiError } from './api.js';
import { describeError, readableFields, readableMessage } from './messages.js';

describe('messages', () => {
  it('names images and settings in words instead of API fields', () => {
    expect(readableMessage('input_urls[0]: refused (loopback address)')).toBe('Image 1: refused (loopback address)');
    expect(readableMessage('input.input_urls[2] is not a decodable image')).toBe('Image 3 is not a decodable image');
    expect(readableMessage('aspect_ratio auto is only allowed with resolution 1K')).toBe('Aspect ratio auto is only allowed with resolution 1K');
    expect(readableMessage('input.scene.light.hardness: too big')).toBe('Fine control light hardness: too big');
    expect(readableMessage('roles[1] must be one of product, scene, style')).toBe('The role of image 2 must be one of product, scene, style');
    expect(readableMessage('file: image could not be decoded')).toBe('Image could not be decoded');
    // inside a sentence the first word keeps its case
    expect(readableFields('resolution 4K is not allowed with aspect_ratio 1:1')).toBe('resolution 4K is not allowed with aspect ratio 1:1');
  });

  it('adds the API error code, except for a bare HTTP status', () => {
    expect(describeError(new ApiError({ status: 400, code: 'INVALID_PARAMS', message: 'input_urls[0]: refused' }))).toBe('Image 1: refused (INVALID_PARAMS)');
    expect(describeError(new ApiError({ status: 502, code: 'HTTP_502', message: 'HTTP 502 Bad Gateway' }))).toBe('HTTP 502 Bad Gateway');
    expect(describeError(new Error('input_urls: empty'))).toBe('The images: empty');
  });
});
