/**
 * A restricted reader of Python pickles: it understands the opcodes `torch.save` writes for
 * tensors and plain containers (protocols 2–5) and builds values from them, and it never calls
 * anything. A GLOBAL is looked up in the caller's table of allowed names; anything else — `os.system`,
 * `builtins.eval`, any class not listed — is refused with its name before it could matter. REDUCE,
 * NEWOBJ and BUILD apply only the allowed globals' own builders (plain JavaScript). A checkpoint is
 * untrusted input: a hostile one is an error, never code.
 */

export class PickleRefused extends Error {}

/** What an allowed global becomes: a builder called (in JS) with REDUCE's or NEWOBJ's arguments. */
export interface AllowedGlobal {
  /** REDUCE f(*args) / NEWOBJ cls.__new__(cls, *args). */
  call: (args: unknown[]) => unknown;
  /** BUILD obj.__setstate__(state) / obj.__dict__.update(state); default: refuse. */
  build?: (obj: unknown, state: unknown) => unknown;
}

export interface UnpickleOptions {
  globals: Record<string, AllowedGlobal | { value: unknown }>;
  persistentLoad: (pid: unknown) => unknown;
}

/**
 * The attributes a pickle gave a dict (an `OrderedDict`'s `__dict__`: PyTorch's `_metadata`), by the
 * Map that stands for it. Kept out of the Map so a state dict's items stay exactly its tensors.
 */
export const dictAttributes = new WeakMap<Map<unknown, unknown>, Map<string, unknown>>();

/**
 * A BUILD state applied as `obj.__dict__.update(state)` (Python's default, for objects without
 * `__setstate__`): a dict of attribute names, or the `(dict | None, slots dict | None)` pair of
 * objects with `__slots__`. Anything else would need the class's own `__setstate__`: refused.
 */
function attributeState(state: unknown, type: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const parts = Array.isArray(state) && state.length === 2 ? state : [state];
  for (const part of parts) {
    if (part === NONE) continue;
    if (!(part instanceof Map))
      throw new PickleRefused(`the pickle sets the state of ${type} in a way a checkpoint never does: refused`);
    for (const [k, v] of part) {
      if (typeof k !== 'string')
        throw new PickleRefused(`the pickle gives ${type} an attribute whose name is not text: refused`);
      out.set(k, v);
    }
  }
  return out;
}

/** Python's None. */
export const NONE = null;

class Mark {}
const MARK = new Mark();

/** A Python object built by an allowed global (kept as the global's name and its fields). */
export class PyObject {
  constructor(
    readonly type: string,
    public state: Record<string, unknown> = {},
  ) {}
}

/**
 * What a checkpoint's object graph may be. Memo references let a few bytes build a graph with more
 * paths than atoms in the universe (dicts that hold the previous one twice, 40 levels deep: 2⁴⁰
 * paths from 1 KB) or one that contains itself; anything that walks such a graph — finding the
 * tensors, reading `args` — would run forever or overflow the stack. So every graph is measured once,
 * here, before anyone walks it: no cycle, at most `MAX_DEPTH` levels, at most `MAX_PATHS` container
 * visits counting each way of reaching a node (a state dict of a ViT-H is about 600).
 */
export const GRAPH_LIMITS = { maxDepth: 200, maxPaths: 1_000_000 } as const;

function bounded(root: unknown): unknown {
  const children = (v: unknown): unknown[] | null => {
    if (v instanceof Map) {
      const attrs = dictAttributes.get(v);
      return [...v.keys(), ...v.values(), ...(attrs ? attrs.values() : [])];
    }
    if (Array.isArray(v)) return v;
    if (v instanceof PyObject) return Object.values(v.state);
    return null;
  };
  let paths = 0;
  const onPath = new Set<unknown>();
  // an explicit stack (a deep graph must not overflow the JavaScript one): [node, its children, next child]
  const stack: { node: unknown; kids: unknown[]; next: number }[] = [];
  const enter = (v: unknown) => {
    const kids = children(v);
    if (!kids) return;
    if (onPath.has(v))
      throw new PickleRefused('the pickle builds an object that contains itself, which no checkpoint does: refused');
    if (++paths > GRAPH_LIMITS.maxPaths)
      throw new PickleRefused(
        `the pickle's objects refer to each other in more than ${GRAPH_LIMITS.maxPaths.toLocaleString('en-US')} ways (objects shared over and over, as a pickle built to exhaust its reader is), which no checkpoint does: refused`,
      );
    if (stack.length >= GRAPH_LIMITS.maxDepth)
      throw new PickleRefused(
        `the pickle nests its objects more than ${GRAPH_LIMITS.maxDepth} levels deep, which no checkpoint does: refused`,
      );
    onPath.add(v);
    stack.push({ node: v, kids, next: 0 });
  };
  enter(root);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    if (top.next < top.kids.length) enter(top.kids[top.next++]);
    else {
      onPath.delete(top.node);
      stack.pop();
    }
  }
  return root;
}

export function unpickle(bytes: Uint8Array, o: UnpickleOptions): unknown {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  const need = (n: number) => {
    if (pos + n > buf.length)
      throw new PickleRefused(
        `the pickle ends early (at byte ${pos}, ${n} more needed): the file is truncated or damaged`,
      );
  };
  const u8 = () => (need(1), buf[pos++]!);
  const u16 = () => (need(2), (pos += 2), buf.readUInt16LE(pos - 2));
  const u32 = () => (need(4), (pos += 4), buf.readUInt32LE(pos - 4));
  const i32 = () => (need(4), (pos += 4), buf.readInt32LE(pos - 4));
  const bytesOf = (n: number) => {
    need(n);
    pos += n;
    return buf.subarray(pos - n, pos);
  };
  const line = () => {
    const end = buf.indexOf(0x0a, pos);
    if (end < 0) throw new PickleRefused('the pickle ends inside a text line: truncated or damaged');
    const s = buf.toString('latin1', pos, end);
    pos = end + 1;
    return s;
  };
  const pop = () => {
    if (stack.length === 0) throw new PickleRefused('the pickle pops an empty stack: damaged');
    return stack.pop();
  };
  const popMark = (): unknown[] => {
    const k = stack.lastIndexOf(MARK);
    if (k < 0) throw new PickleRefused('the pickle has no MARK where one is needed: damaged');
    const items = stack.splice(k + 1);
    stack.pop();
    return items;
  };
  const top = () => {
    if (stack.length === 0) throw new PickleRefused('the pickle reads an empty stack: damaged');
    return stack[stack.length - 1];
  };
  const global = (module: string, name: string): unknown => {
    const key = `${module}.${name}`;
    const g = Object.hasOwn(o.globals, key) ? o.globals[key] : undefined;
    if (!g)
      throw new PickleRefused(
        `the file refers to the Python object ${key}, which a checkpoint has no need of: refused (nothing was run)`,
      );
    return 'value' in g ? g.value : { __global: key, ...g };
  };
  const callable = (f: unknown, what: string): AllowedGlobal & { __global: string } => {
    if (f && typeof f === 'object' && '__global' in f) return f as AllowedGlobal & { __global: string };
    throw new PickleRefused(`the pickle asks to ${what} something that is not an allowed function: refused`);
  };
  const setItems = (d: unknown, kv: unknown[]) => {
    if (!(d instanceof Map) && !(d instanceof PyObject))
      throw new PickleRefused('the pickle sets items on something that is not a dict: refused');
    for (let i = 0; i + 1 < kv.length; i += 2) {
      if (d instanceof Map) d.set(kv[i], kv[i + 1]);
      else d.state[String(kv[i])] = kv[i + 1];
    }
  };
  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) throw new PickleRefused('pickle protocol newer than 5');
        break;
      case 0x95: // FRAME: an 8-byte length, nothing to do with it
        need(8);
        pos += 8;
        break;
      case 0x2e: // STOP
        return bounded(pop());
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(Object.freeze([]));
        break;
      case 0x74: // TUPLE
        stack.push(Object.freeze(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(Object.freeze([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push(Object.freeze([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(Object.freeze([pop(), b, c]));
        break;
      }
      case 0x4e: // NONE
        stack.push(NONE);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: {
        // LONG1
        const n = u8();
        const b = bytesOf(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
        if (n > 0 && b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        stack.push(buf.readDoubleBE(pos));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(bytesOf(u32()).toString('utf8'));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(bytesOf(u8()).toString('utf8'));
        break;
      case 0x8d: {
        // BINUNICODE8
        need(8);
        const n = Number(buf.readBigUInt64LE(pos));
        pos += 8;
        stack.push(bytesOf(n).toString('utf8'));
        break;
      }
      case 0x54: // BINSTRING
        stack.push(bytesOf(i32()).toString('latin1'));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(bytesOf(u8()).toString('latin1'));
        break;
      case 0x42: // BINBYTES
        stack.push(Uint8Array.from(bytesOf(u32())));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(Uint8Array.from(bytesOf(u8())));
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const k = op === 0x68 ? u8() : u32();
        if (!memo.has(k)) throw new PickleRefused(`the pickle refers to memo ${k}, never stored: damaged`);
        stack.push(memo.get(k));
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(global(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string')
          throw new PickleRefused('STACK_GLOBAL without names: damaged');
        stack.push(global(module, name));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const f = callable(pop(), 'call');
        if (!Array.isArray(args)) throw new PickleRefused('REDUCE without an argument tuple: damaged');
        stack.push(f.call([...args]));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const cls = callable(pop(), 'create');
        stack.push(cls.call(Array.isArray(args) ? [...args] : []));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const obj = top();
        if (obj instanceof PyObject) {
          const g = o.globals[obj.type] as AllowedGlobal | undefined;
          if (g && 'build' in g && g.build) stack[stack.length - 1] = g.build(obj, state);
          else for (const [k, v] of attributeState(state, obj.type)) obj.state[k] = v;
        } else if (obj instanceof Map) {
          // an OrderedDict's __dict__: `nn.Module.state_dict()` sets `_metadata` (the modules' versions)
          // on every state dict it returns. Attributes never change the dict's items; kept aside.
          const attrs = attributeState(state, 'collections.OrderedDict');
          if (attrs.size > 0) dictAttributes.set(obj, new Map([...(dictAttributes.get(obj) ?? []), ...attrs]));
        } else if (obj && typeof obj === 'object' && '__tensor' in obj) {
          // a tensor's state (requires_grad, hooks): nothing we keep
        } else throw new PickleRefused('the pickle sets the state of an object that has none to set: refused');
        break;
      }
      case 0x51: // BINPERSID
        stack.push(o.persistentLoad(pop()));
        break;
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        const l = top();
        if (!Array.isArray(l) || Object.isFrozen(l))
          throw new PickleRefused('the pickle appends to something that is not a list: refused');
        l.push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const l = top();
        if (!Array.isArray(l) || Object.isFrozen(l))
          throw new PickleRefused('the pickle appends to something that is not a list: refused');
        l.push(...items);
        break;
      }
      case 0x30: // POP
        pop();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      default:
        throw new PickleRefused(
          `the pickle uses opcode 0x${op.toString(16).padStart(2, '0')} at byte ${pos - 1}, which torch.save never writes: refused`,
        );
    }
  }
}
