#!/usr/bin/env node
// The official Node SDK (baidu-aip-sdk 4.16.16) against the emulator.
//
// usage: node compat.js BASE_URL IMAGE_DIR
// IMAGE_DIR holds photo.jpg and photo.png (made by the Rust test that runs this script).
// Only the SDK's host is changed, through its own request interceptor; everything else is
// the SDK as shipped. Covers the inpainting JSON body and every operation the SDK has, with
// image and url input (the url variants fetch from a loopback file server started here).
// Last line: 'N passed, M failed'; exit status 1 if anything failed.
'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');
const { imageprocess: AipImageProcessClient, HttpClient } = require('baidu-aip-sdk');

const [base, images] = process.argv.slice(2);
const OFFICIAL = /^https:\/\/aip\.baidubce\.com/;
const results = [];

function check(name, ok, detail) {
  results.push(Boolean(ok));
  console.log((ok ? 'ok   ' : 'FAIL ') + name + (ok ? '' : ': ' + JSON.stringify(brief(detail)).slice(0, 300)));
}

function brief(out) {
  if (out === null || typeof out !== 'object') return out;
  const copy = {};
  for (const [k, v] of Object.entries(out)) {
    copy[k] = ['image', 'labelmap', 'scoremap'].includes(k) ? `<${String(v).length} chars>` : v;
  }
  return copy;
}

function decoded(out, field = 'image') {
  return out && typeof out[field] === 'string' ? Buffer.from(out[field], 'base64') : Buffer.alloc(0);
}

const MAGIC = { jpg: Buffer.from([0xff, 0xd8, 0xff]), png: Buffer.from([0x89, 0x50, 0x4e, 0x47]) };
const startsWith = (buf, magic) => buf.length >= magic.length && buf.subarray(0, magic.length).equals(magic);

// The SDK's documented hook for request options: send everything to the emulator.
HttpClient.setRequestInterceptor((options) => {
  options.url = options.url.replace(OFFICIAL, base);
  options.timeout = 60000;
  return options;
});

async function main() {
  const files = http.createServer((req, res) => {
    const file = path.join(images, path.basename(decodeURIComponent(req.url)));
    fs.readFile(file, (err, data) => {
      if (err) {
        res.writeHead(404);
        res.end('not found');
      } else {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        res.end(data);
      }
    });
  });
  await new Promise((resolve) => files.listen(0, '127.0.0.1', resolve));
  const filesUrl = `http://127.0.0.1:${files.address().port}`;
  const client = new AipImageProcessClient('appid', 'ak', 'sk');

  // [name, image call, url call]: the SDK wants the caller to base64 the image.
  const ops = [
    ['imageQualityEnhance', (i) => client.imageQualityEnhance(i), (u) => client.imageQualityEnhanceUrl(u)],
    ['dehaze', (i) => client.dehaze(i), (u) => client.dehazeUrl(u)],
    ['contrastEnhance', (i) => client.contrastEnhance(i), (u) => client.contrastEnhanceUrl(u)],
    ['colourize', (i) => client.colourize(i), (u) => client.colourizeUrl(u)],
    ['stretchRestore', (i) => client.stretchRestore(i), (u) => client.stretchRestoreUrl(u)],
    ['imageDefinitionEnhance', (i) => client.imageDefinitionEnhance(i), (u) => client.imageDefinitionEnhanceUrl(u)],
    ['colorEnhance', (i) => client.colorEnhance(i), (u) => client.colorEnhanceUrl(u)],
    ['styleTrans pencil', (i) => client.styleTrans(i, { option: 'pencil' }),
      (u) => client.styleTransUrl(u, { option: 'pencil' })],
    ['selfieAnime anime_mask 2', (i) => client.selfieAnime(i, { type: 'anime_mask', mask_id: '2' }),
      (u) => client.selfieAnimeUrl(u, { type: 'anime_mask', mask_id: '2' })],
    ['removeMoireV1', (i) => client.removeMoireV1(i), (u) => client.removeMoireV1Url(u)],
    ['customizeStylizationV1 style_id 12', (i) => client.customizeStylizationV1(i, { style_id: '12' }),
      (u) => client.customizeStylizationV1Url(u, { style_id: '12' })],
    ['docRepairV1', (i) => client.docRepairV1(i), (u) => client.docRepairV1Url(u)],
    ['denoiseV1 40', (i) => client.denoiseV1(i, '40'), (u) => client.denoiseV1Url(u, '40')],
  ];

  for (const ext of ['jpg', 'png']) {
    const b64 = fs.readFileSync(path.join(images, `photo.${ext}`)).toString('base64');
    const url = `${filesUrl}/photo.${ext}`;
    for (const [name, byImage, byUrl] of ops) {
      let out = await byImage(b64);
      check(`${name} ${ext}: image of the same format`, startsWith(decoded(out), MAGIC[ext]) && out.log_id !== undefined, out);
      out = await byUrl(url);
      check(`${name}Url ${ext}: image of the same format`, startsWith(decoded(out), MAGIC[ext]), out);
    }
    for (const [how, call] of [['skySeg', () => client.skySeg(b64)], ['skySegUrl', () => client.skySegUrl(url)]]) {
      const out = await call();
      check(`${how} ${ext}: labelmap and scoremap PNGs`,
        startsWith(decoded(out, 'labelmap'), MAGIC.png) && startsWith(decoded(out, 'scoremap'), MAGIC.png), out);
    }
    // Inpainting: the SDK sends a JSON body {image, rectangle}.
    const rects = [{ left: 20, top: 20, width: 60, height: 40 }, { left: 200, top: 100, width: 30, height: 30 }];
    let out = await client.inpaintingByMask(b64, rects);
    check(`inpaintingByMask ${ext} (JSON body)`, startsWith(decoded(out), MAGIC[ext]), out);
    out = await client.inpaintingByMask(b64, [{ left: 300, top: 0, width: 50, height: 10 }]);
    check(`inpaintingByMask ${ext} with a rectangle outside the image -> 216100`, out.error_code === 216100, out);
  }

  // Parameter errors reach the SDK's caller as the service's codes.
  const png = fs.readFileSync(path.join(images, 'photo.png')).toString('base64');
  const errors = [
    ['styleTrans option=sepia', () => client.styleTrans(png, { option: 'sepia' }), 216100],
    ['styleTrans without option', () => client.styleTrans(png, {}), 216101],
    ['denoiseV1 option=500', () => client.denoiseV1(png, '500'), 216100],
    ['selfieAnimeUrl of a missing file', () => client.selfieAnimeUrl(`${filesUrl}/missing.png`), 282113],
    ['dehazeUrl of a non-loopback host', () => client.dehazeUrl('http://192.0.2.1/photo.png'), 282111],
    ['removeMoireV1Pdf', () => client.removeMoireV1Pdf(Buffer.from('%PDF-1.4\n%%EOF\n').toString('base64')), 216201],
  ];
  for (const [name, call, code] of errors) {
    const out = await call();
    check(`${name} -> ${code}`, out.error_code === code, out);
  }

  files.close();
  const failed = results.filter((r) => !r).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.log('FAIL unexpected error: ' + (e && e.stack ? e.stack : JSON.stringify(e)));
  const failed = results.filter((r) => !r).length + 1;
  console.log(`${results.length + 1 - failed} passed, ${failed} failed`);
  process.exit(1);
});
