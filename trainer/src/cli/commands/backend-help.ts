/** The --backend help of every command: the ladder's rungs by name (no TensorFlow.js import). */
import { BACKEND_NAMES } from '../../backends/names.js';

export const BACKEND_HELP = ['auto', ...BACKEND_NAMES].join(' | ');
