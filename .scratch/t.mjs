import { parsingStart } from '/work/wt-par/trainer/dist/annotation/parsing-start.js';
let t = performance.now();
const a = await parsingStart('/tmp/partry/photos/cage.jpg', { model: '/tmp/partry/run/parsing.safetensors' }, { backend: 'wasm' });
console.log('model', performance.now() - t); t = performance.now();
const b = await parsingStart('/tmp/partry/faces/audrey.jpg', 'mesh');
console.log('mesh', performance.now() - t); t = performance.now();
const c = await parsingStart('/tmp/partry/photos/coffee.png', 'mesh');
console.log('coffee', performance.now() - t, c);
