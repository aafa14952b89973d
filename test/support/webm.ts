// A short WebM video made in the tests without ffmpeg: headless Chromium draws frames on a canvas,
// `canvas.captureStream()` turns them into a video track and `MediaRecorder` encodes it (VP8, or
// VP9 where VP8 is missing) into WebM; the bytes come back to Node. The licensing tests register,
// stream and play it (issue 21). Chromium's recorder writes a live WebM (no duration, no cues):
// the `<video>` element plays it to `ended` all the same, which is what the tests check.
import assert from 'node:assert/strict';

import type { Browser } from 'playwright-core';

import { launchChromium } from './chromium.js';

export interface WebmOptions {
  /** How long the recording runs (the video's length, give or take a frame). */
  durationMs?: number;
  width?: number;
  height?: number;
  /**
   * The encoder's target rate: the default makes a video of a few hundred KiB, so it spans
   * several of the gateway's 64 KiB chunks and a range can cross a chunk's edge.
   */
  videoBitsPerSecond?: number;
  /** A browser to record in (the console tests have one); otherwise one is started and closed. */
  browser?: Browser;
}

/** A recording longer than this is not "short": the tests keep their runtime small. */
const durationMsMax = 10_000;
/** EBML's magic number: every WebM (Matroska) file starts with it. */
const ebmlMagic = [0x1a, 0x45, 0xdf, 0xa3];

/** Runs in the page: records `durationMs` of an animated canvas, answers the WebM as base64. */
const recordInPage = `async ({ durationMs, width, height, videoBitsPerSecond }) => {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  document.body.append(canvas);
  const context = canvas.getContext('2d');
  const types = ['video/webm;codecs=vp8', 'video/webm;codecs=vp9', 'video/webm'];
  const mimeType = types.find((t) => MediaRecorder.isTypeSupported(t));
  if (!mimeType) throw new Error('this Chromium records no WebM');
  let frame = 0;
  const draw = () => {
    // A moving bar and a frame counter: each frame differs, so the encoder has work to do.
    const hue = (frame * 7) % 360;
    context.fillStyle = 'hsl(' + hue + ', 60%, 40%)';
    context.fillRect(0, 0, width, height);
    context.fillStyle = '#fff';
    context.fillRect((frame * 9) % width, 0, 24, height);
    // Noise in one corner keeps the encoder near its target rate (a flat picture compresses to a
    // few KiB), so the video is long enough in bytes to span several chunks.
    const noise = context.createImageData(width / 2, height / 2);
    for (let i = 0; i < noise.data.length; i += 4) {
      noise.data[i] = noise.data[i + 1] = noise.data[i + 2] = (Math.random() * 256) | 0;
      noise.data[i + 3] = 255;
    }
    context.putImageData(noise, width / 2, height / 2);
    context.font = '32px sans-serif';
    context.fillText('coffer ' + frame, 16, height / 2);
    frame += 1;
  };
  draw();
  const stream = canvas.captureStream(30);
  const recorder = new MediaRecorder(stream, { mimeType, videoBitsPerSecond });
  const parts = [];
  recorder.ondataavailable = (event) => {
    if (event.data.size > 0) parts.push(event.data);
  };
  const stopped = new Promise((resolve, reject) => {
    recorder.onstop = resolve;
    recorder.onerror = (event) => reject(new Error('MediaRecorder: ' + event.error));
  });
  const ticker = setInterval(draw, 1000 / 30);
  recorder.start(250);
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  recorder.stop();
  await stopped;
  clearInterval(ticker);
  for (const track of stream.getTracks()) track.stop();
  const bytes = new Uint8Array(await new Blob(parts, { type: 'video/webm' }).arrayBuffer());
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return { mimeType, base64: btoa(text) };
}`;

/**
 * Records a short WebM (about `durationMs`, 1.5 s by default) in headless Chromium and answers
 * its bytes. Checks they look like WebM before returning them.
 */
export async function makeWebm(options: WebmOptions = {}): Promise<Uint8Array> {
  const durationMs = options.durationMs ?? 1_500;
  assert.ok(durationMs > 0 && durationMs <= durationMsMax, `durationMs in 1..${durationMsMax}`);
  const own = options.browser === undefined;
  const browser = options.browser ?? (await launchChromium());
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.setContent('<!doctype html><title>webm</title><body></body>');
    const settings = {
      durationMs,
      width: options.width ?? 320,
      height: options.height ?? 240,
      videoBitsPerSecond: options.videoBitsPerSecond ?? 1_500_000,
    };
    // Browser code as text: the tests' types are Node's, without the DOM.
    const { base64 } = await page.evaluate<{ mimeType: string; base64: string }>(
      `(${recordInPage})(${JSON.stringify(settings)})`,
    );
    const bytes = new Uint8Array(Buffer.from(base64, 'base64'));
    assert.ok(bytes.length > 1024, `a WebM of ${bytes.length} bytes is too short to be a video`);
    assert.deepEqual([...bytes.subarray(0, 4)], ebmlMagic, 'the recording starts as WebM does');
    return bytes;
  } finally {
    await context.close();
    if (own) await browser.close();
  }
}
