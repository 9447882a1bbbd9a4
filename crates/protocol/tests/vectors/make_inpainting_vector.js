#!/usr/bin/env node
// The golden `inpainting` body, as the official Node SDK sends it.
//
//     npm pack baidu-aip-sdk@4.16.16 && tar xzf baidu-aip-sdk-4.16.16.tgz
//     (cd package && npm install --omit=dev)
//     node crates/protocol/tests/vectors/make_inpainting_vector.js package [OUT_DIR]
//
// Calls the SDK's own `inpaintingByMask` with `doRequest` replaced by a recorder, and
// builds the body with the SDK's `HttpClientExt.createBody` (JSON.stringify). The SDK
// wants the image already base64-encoded (a defect this project does not copy), so the
// caller's side is done here. Nothing is sent.
'use strict';
const fs = require('fs');
const path = require('path');

const sdk = path.resolve(process.argv[2] || 'package');
const out = process.argv[3] || path.join(__dirname, 'operations');
const AipImageProcess = require(path.join(sdk, 'src/AipImageProcess.js'));
const HttpClientExt = require(path.join(sdk, 'src/http/httpClientExt.js'));

function pngHeader(width, height) {
    const b = Buffer.alloc(33);
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b, 0);
    b.writeUInt32BE(13, 8);
    b.write('IHDR', 12, 'ascii');
    b.writeUInt32BE(width, 16);
    b.writeUInt32BE(height, 20);
    Buffer.from([8, 2, 0, 0, 0, 0, 0, 0, 0]).copy(b, 24);
    return b;
}
const pattern = (n) => Buffer.from(Array.from({length: n}, (_, i) => (i * 7 + 3) % 256));

const image = Buffer.concat([pngHeader(300, 300), pattern(1000)]);
const rectangles = [
    {left: 10, top: 20, width: 30, height: 40},
    {left: 0, top: 0, width: 300, height: 1},
];
const client = new AipImageProcess('appid', 'ak', 'sk');
let recorded = null;
client.doRequest = (requestInfo) => { recorded = requestInfo; return Promise.resolve({}); };
client.inpaintingByMask(image.toString('base64'), rectangles);
if (!recorded.path.endsWith('/inpainting')) throw new Error(recorded.path);
fs.mkdirSync(out, {recursive: true});
fs.writeFileSync(path.join(out, 'inpainting.json'), new HttpClientExt().createBody(recorded.params));
fs.writeFileSync(path.join(out, 'inpainting.manifest.json'), JSON.stringify({
    generator: 'crates/protocol/tests/vectors/make_inpainting_vector.js',
    sdk: 'baidu-aip-sdk 4.16.16',
    content_type: recorded.headers['Content-Type'] || recorded.headers['content-type'],
    rectangles,
}, null, 2) + '\n');
