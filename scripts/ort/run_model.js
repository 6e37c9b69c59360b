#!/usr/bin/env node
// Runs an ONNX model in the official ONNX Runtime (npm onnxruntime-node, CPU) on
// inputs qsim wrote as safetensors, and writes the outputs as safetensors for qsim
// to read. scripts/setup.sh installs the package next to this file.
//
//   node run_model.js --model M.onnx --inputs in.safetensors --outputs out.safetensors
//        [--optimization disabled|basic|extended|all] [--threads 2] [--batch_size B]
//        [--trim_padding 1] [--repeat K] [--warmup W] [--optimized_model F]
//
// --batch_size runs the inputs in slices of B rows (dimension 0) and concatenates
// the outputs; --trim_padding 1 cuts each slice's [B, L] inputs to its longest
// attention_mask row, as qsim's trim_padding batches do (outputs without a
// sequence axis only, e.g. logits); --repeat times K runs of the whole input after W warm-up runs. A
// JSON summary (outputs, load and run times in ms, ORT version) goes to stdout.
// Outputs keep their types, except uint16, written as int32 (LibTorch has no uint16).
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));

const DTYPES = {  // safetensors dtype -> [ORT type, typed array]
  F32: ['float32', Float32Array], I64: ['int64', BigInt64Array], I32: ['int32', Int32Array],
  I16: ['int16', Int16Array], U16: ['uint16', Uint16Array], I8: ['int8', Int8Array], U8: ['uint8', Uint8Array],
};
const FROM_ORT = Object.fromEntries(Object.entries(DTYPES).map(([k, [t]]) => [t, k]));

function fail(message) {
  process.stderr.write(`run_model.js: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const args = { optimization: 'all', threads: 2, batch_size: 0, trim_padding: 0, repeat: 0, warmup: 1 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in args) && !['model', 'inputs', 'outputs', 'optimized_model'].includes(key)) fail(`unknown flag ${argv[i]}`);
    if (i + 1 >= argv.length) fail(`flag ${argv[i]} needs a value`);
    args[key] = typeof args[key] === 'number' ? Number(argv[i + 1]) : argv[i + 1];
  }
  for (const key of ['model', 'inputs', 'outputs']) if (!args[key]) fail(`--${key} is required`);
  if (!['disabled', 'basic', 'extended', 'all'].includes(args.optimization)) fail(`bad --optimization ${args.optimization}`);
  return args;
}

function readSafetensors(file) {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const tensors = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (!(info.dtype in DTYPES)) fail(`${file}: '${name}' has dtype ${info.dtype}, not one the runner handles`);
    const [begin, end] = info.data_offsets;
    const bytes = buf.subarray(8 + n + begin, 8 + n + end);
    const [type, Typed] = DTYPES[info.dtype];
    const data = new Typed(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    tensors[name] = new ort.Tensor(type, data, info.shape);
  }
  return tensors;
}

// qsim's layout: by decreasing element size, then name; header padded to 8 bytes.
// uint16 outputs (16-bit codes) are widened to int32, which LibTorch 1.13 has.
function writeSafetensors(file, tensors) {
  const entries = Object.entries(tensors).map(([name, original]) => {
    const t = original.type === 'uint16' ? new ort.Tensor('int32', Int32Array.from(original.data), original.dims) : original;
    if (!(t.type in FROM_ORT)) fail(`output '${name}' has type ${t.type}, not one the runner writes`);
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    return { name, dtype: FROM_ORT[t.type], shape: t.dims, bytes, size: t.data.BYTES_PER_ELEMENT };
  });
  entries.sort((a, b) => b.size - a.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header = {};
  let offset = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.bytes.length] };
    offset += e.bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const partial = `${file}.partial`;
  fs.writeFileSync(partial, Buffer.concat([length, Buffer.from(json), ...entries.map((e) => e.bytes)]));
  fs.renameSync(partial, file);
}

function sliceRows(tensor, begin, end) {
  const row = tensor.dims.slice(1).reduce((a, b) => a * b, 1);
  return new ort.Tensor(tensor.type, tensor.data.slice(begin * row, end * row), [end - begin, ...tensor.dims.slice(1)]);
}

// Columns [0, length) of a [B, L] tensor, length = the longest attention_mask row.
function trimColumns(feeds) {
  const mask = feeds.attention_mask;
  if (!mask || mask.dims.length !== 2) fail('--trim_padding needs an attention_mask input [batch, sequence]');
  const [rows, columns] = mask.dims;
  let length = 1;
  for (let r = 0; r < rows; ++r) {
    let sum = 0n;
    for (let c = 0; c < columns; ++c) sum += BigInt(mask.data[r * columns + c]);
    length = Math.max(length, Number(sum));
  }
  const out = {};
  for (const [name, t] of Object.entries(feeds)) {
    const data = new t.data.constructor(rows * length);
    for (let r = 0; r < rows; ++r) data.set(t.data.subarray(r * columns, r * columns + length), r * length);
    out[name] = new ort.Tensor(t.type, data, [rows, length]);
  }
  return out;
}

function concatRows(parts) {
  const first = parts[0];
  const rows = parts.reduce((n, p) => n + p.dims[0], 0);
  const data = new first.data.constructor(parts.reduce((n, p) => n + p.data.length, 0));
  let at = 0;
  for (const p of parts) { data.set(p.data, at); at += p.data.length; }
  return new ort.Tensor(first.type, data, [rows, ...first.dims.slice(1)]);
}

async function runAll(session, feeds, batchSize, trim) {
  const rows = Object.values(feeds)[0].dims[0];
  if (!batchSize || batchSize >= rows) return session.run(trim ? trimColumns(feeds) : feeds);
  const parts = {};
  for (let begin = 0; begin < rows; begin += batchSize) {
    const end = Math.min(rows, begin + batchSize);
    const slice = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, sliceRows(t, begin, end)]));
    const out = await session.run(trim ? trimColumns(slice) : slice);
    for (const [k, t] of Object.entries(out)) (parts[k] = parts[k] || []).push(t);
  }
  return Object.fromEntries(Object.entries(parts).map(([k, p]) => [k, concatRows(p)]));
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const options = {
    graphOptimizationLevel: args.optimization, intraOpNumThreads: args.threads, interOpNumThreads: 1,
    executionMode: 'sequential',
  };
  if (args.optimized_model) options.optimizedModelFilePath = args.optimized_model;
  const loadStart = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(args.model, options);
  const loadMs = Number(process.hrtime.bigint() - loadStart) / 1e6;
  const inputs = readSafetensors(args.inputs);
  const feeds = {};
  for (const name of session.inputNames) {
    if (!(name in inputs)) fail(`${args.inputs} has no tensor '${name}' (the model's inputs: ${session.inputNames.join(', ')})`);
    feeds[name] = inputs[name];
  }
  let outputs = null;
  const runsMs = [];
  for (let i = 0; i < args.warmup + args.repeat || outputs === null; ++i) {
    const start = process.hrtime.bigint();
    outputs = await runAll(session, feeds, args.batch_size, args.trim_padding !== 0);
    if (i >= args.warmup) runsMs.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  writeSafetensors(args.outputs, outputs);
  process.stdout.write(JSON.stringify({
    model: args.model, optimization: args.optimization, threads: args.threads, ort_version: ort.env.versions.common,
    outputs: Object.keys(outputs), load_ms: loadMs, runs_ms: runsMs,
  }) + '\n');
}

main().catch((e) => fail(e.message || String(e)));
