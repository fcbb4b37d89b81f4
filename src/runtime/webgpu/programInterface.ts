/**
 * The interface of a WGSL program, read from the shader itself: its `var<uniform>` struct (field
 * names, types and WGSL uniform-layout offsets), its `@group(0) @binding(n) var … NAME`
 * declarations and, per entry point, its workgroup size and which bindings and uniform fields it
 * uses (what it or a function it calls mentions, as WebGPU's `layout: 'auto'` decides). Pure
 * TypeScript, no GPU: the planner checks every dispatch against it while building a plan.
 *
 *  - `pack(entry, {cin, cwin, …})` places uniform values by name: f32 fields get their float bits,
 *    i32/u32 fields whole numbers (or booleans, as 1/0), vecN fields N numbers; padding follows
 *    WGSL's layout rules. A name the struct lacks, or a field the entry point reads but the values
 *    lack, throws (fields an entry point does not read may be left out; they are 0).
 *  - `bind(entry, {X, W, P, O})` turns resources named like the shader's bindings into binding
 *    slots (the uniform binding is added by the caller, see `programs.ts`). A name the shader does
 *    not declare, a binding the entry point uses but the resources lack, or one it does not use
 *    (its `layout: 'auto'` has no such slot) throws.
 */

export type UniformScalar = 'u32' | 'i32' | 'f32';
/** A uniform value: a number (or a boolean for u32/i32 flags), or N numbers for a vecN field. */
export type UniformValue = number | boolean | readonly number[];
export type UniformValues = Record<string, UniformValue>;

export interface UniformField {
  name: string;
  /** As written in the shader, e.g. `u32`, `vec3f`, `vec4<f32>`. */
  type: string;
  scalar: UniformScalar;
  components: 1 | 2 | 3 | 4;
  /** Byte offset in the struct (WGSL uniform layout). */
  offset: number;
}

export interface BindingDeclaration {
  name: string;
  binding: number;
  /** `uniform`, `storage`, or `handle` (textures and samplers: no address space). */
  addressSpace: 'uniform' | 'storage' | 'handle';
  /** The store type as written (`array<f32>`, `Uniforms`, `texture_2d<f32>`, …). */
  type: string;
}

export interface EntryPoint {
  name: string;
  /** Invocations per workgroup (`@workgroup_size`, the product of its dimensions). */
  workgroupSize: number;
  /** Names of the non-uniform bindings the entry point uses, in binding order. */
  bindings: string[];
  usesUniform: boolean;
  /** Uniform fields the entry point reads. */
  uniformFields: Set<string>;
}

export interface BindingSlot<R> {
  name: string;
  binding: number;
  addressSpace: BindingDeclaration['addressSpace'];
  resource: R;
}

/** A mismatch between a shader's declared interface and what TypeScript gives it. */
export class ProgramInterfaceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProgramInterfaceError';
  }
}

/** `n` rounded up to a multiple of `a`. */
export function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** Dispatch grid for a thread count: x ≤ 65535 workgroups, y as needed. */
export function workgroupGrid(threads: number, workgroupSize: number): [number, number] {
  const groups = Math.max(1, Math.ceil(threads / workgroupSize));
  const x = Math.min(groups, 65535);
  return [x, Math.ceil(groups / x)];
}

const SCALARS: Record<string, UniformScalar> = { u32: 'u32', i32: 'i32', f32: 'f32', u: 'u32', i: 'i32', f: 'f32' };

/** WGSL uniform layout of a scalar or vector of 4-byte scalars: alignment and size in bytes. */
function uniformType(type: string): { scalar: UniformScalar; components: 1 | 2 | 3 | 4; align: number; size: number } | null {
  const t = type.replace(/\s+/g, '');
  if (SCALARS[t] && t.length === 3) return { scalar: SCALARS[t], components: 1, align: 4, size: 4 };
  const m = /^vec([234])(?:([fiu])|<(f32|i32|u32)>)$/.exec(t);
  if (!m) return null;
  const n = Number(m[1]) as 2 | 3 | 4;
  return { scalar: SCALARS[m[2] ?? m[3]], components: n, align: n === 2 ? 8 : 16, size: 4 * n };
}

/** Source without comments (line structure kept). */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/\/\/[^\n]*/g, '');
}

/** Splits at commas outside `<>` and `()`. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '<' || ch === '(') depth++;
    else if (ch === '>' || ch === ')') depth--;
    else if (ch === ',' && depth === 0) { parts.push(text.slice(start, i)); start = i + 1; }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

interface FunctionDecl { name: string; attributes: string; params: string; body: string }

/** Every `fn` of the module: attributes before it, parameter list and body. */
function functions(code: string, label: string): FunctionDecl[] {
  const out: FunctionDecl[] = [];
  const re = /((?:@\w+(?:\s*\([^)]*\))?\s*)*)\bfn\s+(\w+)\s*\(/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(code))) {
    let i = m.index + m[0].length;
    let depth = 1;
    const paramsStart = i;
    for (; i < code.length && depth > 0; i++) {
      if (code[i] === '(') depth++;
      else if (code[i] === ')') depth--;
    }
    const params = code.slice(paramsStart, i - 1);
    const open = code.indexOf('{', i);
    if (open < 0) throw new ProgramInterfaceError(`${label}: fn ${m[2]} has no body`);
    depth = 1;
    let j = open + 1;
    for (; j < code.length && depth > 0; j++) {
      if (code[j] === '{') depth++;
      else if (code[j] === '}') depth--;
    }
    out.push({ name: m[2], attributes: m[1], params, body: code.slice(open + 1, j - 1) });
    re.lastIndex = j;
  }
  return out;
}

/** Identifiers a piece of code mentions (member names after `.` excluded). */
function identifiers(code: string): Set<string> {
  const out = new Set<string>();
  for (const m of code.matchAll(/(?<![.\w])([A-Za-z_]\w*)/g)) out.add(m[1]);
  return out;
}

export class ProgramInterface {
  /** The uniform struct's fields (empty when the shader has no uniform binding). */
  readonly uniformFields: UniformField[];
  /** Bytes the packed uniforms take: the struct's size rounded up to 16. */
  readonly uniformBytes: number;
  readonly uniformBinding: BindingDeclaration | null;
  /** Every other `@group(0)` binding, in binding order. */
  readonly bindings: BindingDeclaration[];
  readonly entryPoints: Map<string, EntryPoint>;
  private readonly fieldsByName: Map<string, UniformField>;

  /** `shader`: the name errors give (`<shader>.wgsl`); `source`: its WGSL, includes expanded. */
  constructor(readonly shader: string, source: string) {
    const label = `${shader}.wgsl`;
    const code = stripComments(source);
    const declared: BindingDeclaration[] = [];
    for (const m of code.matchAll(/@group\(\s*(\d+)\s*\)\s*@binding\(\s*(\d+)\s*\)\s*var\s*(?:<\s*(\w+)[^>]*>)?\s*(\w+)\s*:\s*([^;]+);/g)) {
      if (m[1] !== '0') throw new ProgramInterfaceError(`${label}: binding ${m[4]} is in group ${m[1]}; programs use group 0 only`);
      const space = m[3] ?? 'handle';
      if (space !== 'uniform' && space !== 'storage' && space !== 'handle') throw new ProgramInterfaceError(`${label}: binding ${m[4]} has address space ${space}`);
      const clash = declared.find((d) => d.binding === Number(m[2]) || d.name === m[4]);
      if (clash) throw new ProgramInterfaceError(`${label}: bindings ${clash.name} and ${m[4]} clash`);
      declared.push({ name: m[4], binding: Number(m[2]), addressSpace: space, type: m[5].trim() });
    }
    declared.sort((a, b) => a.binding - b.binding);
    const uniforms = declared.filter((d) => d.addressSpace === 'uniform');
    if (uniforms.length > 1) throw new ProgramInterfaceError(`${label}: more than one uniform binding (${uniforms.map((u) => u.name).join(', ')})`);
    this.uniformBinding = uniforms[0] ?? null;
    this.bindings = declared.filter((d) => d.addressSpace !== 'uniform');

    // The uniform struct and its WGSL layout.
    this.uniformFields = [];
    let structSize = 0;
    if (this.uniformBinding) {
      const structName = this.uniformBinding.type;
      const sm = new RegExp(`\\bstruct\\s+${structName}\\s*\\{([^}]*)\\}`).exec(code);
      if (!sm) throw new ProgramInterfaceError(`${label}: the uniform ${this.uniformBinding.name} has type ${structName}, which is not a struct of this shader`);
      let offset = 0, structAlign = 4;
      for (const member of splitTopLevel(sm[1])) {
        const mm = /^((?:@\w+\s*\([^)]*\)\s*)*)(\w+)\s*:\s*(.+)$/.exec(member);
        if (!mm) throw new ProgramInterfaceError(`${label}: cannot read struct ${structName} member '${member}'`);
        const t = uniformType(mm[3]);
        if (!t) throw new ProgramInterfaceError(`${label}: uniform field ${mm[2]} has type ${mm[3]}; supported: u32, i32, f32 and their vec2/3/4`);
        let fieldAlign = t.align, size = t.size;
        for (const a of mm[1].matchAll(/@(\w+)\s*\(\s*(\d+)\s*\)/g)) {
          if (a[1] === 'align') fieldAlign = Number(a[2]);
          else if (a[1] === 'size') size = Number(a[2]);
          else throw new ProgramInterfaceError(`${label}: uniform field ${mm[2]} has attribute @${a[1]}`);
        }
        offset = align(offset, fieldAlign);
        this.uniformFields.push({ name: mm[2], type: mm[3].trim(), scalar: t.scalar, components: t.components, offset });
        offset += size;
        structAlign = Math.max(structAlign, fieldAlign);
      }
      structSize = align(offset, structAlign);
    }
    this.uniformBytes = align(structSize, 16);
    this.fieldsByName = new Map(this.uniformFields.map((f) => [f.name, f]));

    // Entry points: what each one (and every function it calls) mentions.
    const fns = functions(code, label);
    const byName = new Map(fns.map((f) => [f.name, f]));
    const bindingNames = new Set(declared.map((d) => d.name));
    for (const f of fns) {
      const locals = [...f.body.matchAll(/\b(?:let|var|const)\s+(\w+)/g)].map((m) => m[1])
        .concat(splitTopLevel(f.params).map((p) => /(\w+)\s*:/.exec(p.replace(/@\w+(\s*\([^)]*\))?/g, ''))?.[1] ?? ''));
      const shadow = locals.find((n) => bindingNames.has(n));
      if (shadow) throw new ProgramInterfaceError(`${label}: fn ${f.name} declares ${shadow}, the name of a binding; rename it`);
    }
    const consts = new Map<string, number>();
    for (const m of code.matchAll(/\bconst\s+(\w+)\s*(?::\s*\w+\s*)?=\s*(\d+)[ui]?\s*;/g)) consts.set(m[1], Number(m[2]));
    this.entryPoints = new Map();
    for (const f of fns) {
      if (!/@compute\b/.test(f.attributes)) continue;
      const ws = /@workgroup_size\s*\(([^)]*)\)/.exec(f.attributes);
      if (!ws) throw new ProgramInterfaceError(`${label}: entry point ${f.name} has no @workgroup_size`);
      const workgroupSize = splitTopLevel(ws[1]).reduce((product, dim) => {
        const v = /^\d+[ui]?$/.test(dim) ? parseInt(dim, 10) : consts.get(dim);
        if (v === undefined) throw new ProgramInterfaceError(`${label}: entry point ${f.name}: workgroup size ${dim} is not a number or an integer const`);
        return product * v;
      }, 1);
      const reached = new Set<string>([f.name]);
      const used = new Set<string>();
      const fields = new Set<string>();
      const visit = [f];
      while (visit.length) {
        const g = visit.pop()!;
        const text = `${g.params} ${g.body}`;
        for (const id of identifiers(text)) {
          if (bindingNames.has(id)) used.add(id);
          const callee = byName.get(id);
          if (callee && !reached.has(id)) { reached.add(id); visit.push(callee); }
        }
        if (this.uniformBinding) {
          for (const m of text.matchAll(new RegExp(`(?<![.\\w])${this.uniformBinding.name}\\s*\\.\\s*(\\w+)`, 'g'))) fields.add(m[1]);
        }
      }
      this.entryPoints.set(f.name, {
        name: f.name, workgroupSize,
        bindings: this.bindings.filter((b) => used.has(b.name)).map((b) => b.name),
        usesUniform: this.uniformBinding !== null && used.has(this.uniformBinding.name),
        uniformFields: fields,
      });
    }
  }

  /** The entry point `name` (throws when the shader has none of that name). */
  entry(name: string): EntryPoint {
    const e = this.entryPoints.get(name);
    if (!e) throw new ProgramInterfaceError(`${this.shader}.wgsl has no entry point ${name} (it has ${[...this.entryPoints.keys()].join(', ')})`);
    return e;
  }

  /** The uniform words of a dispatch of `entry`, fields placed by name. */
  pack(entry: string, values: UniformValues): Uint32Array {
    const e = this.entry(entry);
    const where = `${this.shader}.wgsl (${entry})`;
    for (const name of Object.keys(values)) {
      if (!this.fieldsByName.has(name)) {
        throw new ProgramInterfaceError(this.uniformBinding
          ? `${where}: struct ${this.uniformBinding.type} has no field ${name}`
          : `${where}: the shader has no uniforms, but field ${name} was given`);
      }
    }
    const data = new DataView(new ArrayBuffer(this.uniformBytes));
    for (const f of this.uniformFields) {
      const v = values[f.name];
      if (v === undefined) {
        if (e.uniformFields.has(f.name)) throw new ProgramInterfaceError(`${where}: uniform field ${f.name} (${f.type}) is missing`);
        continue;
      }
      const list: readonly (number | boolean)[] = typeof v === 'object' ? v : [v];
      if (list.length !== f.components) {
        throw new ProgramInterfaceError(`${where}: uniform field ${f.name} is ${f.type} and takes ${f.components === 1 ? 'one number' : `${f.components} numbers`}, not ${typeof v === 'object' ? `${list.length}` : 'one'}`);
      }
      list.forEach((x, k) => {
        const at = f.offset + 4 * k;
        const n = typeof x === 'boolean' && f.scalar !== 'f32' ? Number(x) : x;
        if (typeof n !== 'number') throw new ProgramInterfaceError(`${where}: uniform field ${f.name} is ${f.type}, not a boolean`);
        if (f.scalar === 'f32') data.setFloat32(at, n, true);
        else if (f.scalar === 'u32') {
          if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new ProgramInterfaceError(`${where}: uniform field ${f.name} is ${f.type} and cannot hold ${n}`);
          data.setUint32(at, n, true);
        } else {
          if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) throw new ProgramInterfaceError(`${where}: uniform field ${f.name} is ${f.type} and cannot hold ${n}`);
          data.setInt32(at, n, true);
        }
      });
    }
    return new Uint32Array(data.buffer);
  }

  /** The named values of packed uniform words (the inverse of `pack`, fields not packed read 0). */
  unpack(words: Uint32Array): Record<string, number | number[]> {
    const data = new DataView(words.buffer, words.byteOffset, words.byteLength);
    const out: Record<string, number | number[]> = {};
    for (const f of this.uniformFields) {
      const read = (k: number) => {
        const at = f.offset + 4 * k;
        return f.scalar === 'f32' ? data.getFloat32(at, true) : f.scalar === 'u32' ? data.getUint32(at, true) : data.getInt32(at, true);
      };
      out[f.name] = f.components === 1 ? read(0) : Array.from({ length: f.components }, (_, k) => read(k));
    }
    return out;
  }

  /**
   * The binding slots of a dispatch of `entry`: one per binding the entry point uses, from the
   * resource of that name (the uniform binding is not named here; see `entry(…).usesUniform`).
   */
  bind<R>(entry: string, resources: Record<string, R | undefined>): BindingSlot<R>[] {
    const e = this.entry(entry);
    const where = `${this.shader}.wgsl (${entry})`;
    for (const [name, r] of Object.entries(resources)) {
      if (r === undefined) continue;
      if (this.uniformBinding?.name === name) throw new ProgramInterfaceError(`${where}: binding ${name} is the uniform buffer, which is bound automatically`);
      if (!this.bindings.some((b) => b.name === name)) {
        throw new ProgramInterfaceError(`${where}: no binding is named ${name} (the shader declares ${this.bindings.map((b) => b.name).join(', ')})`);
      }
      if (!e.bindings.includes(name)) throw new ProgramInterfaceError(`${where}: binding ${name} is not used by this entry point (it uses ${e.bindings.join(', ')})`);
    }
    return this.bindings.filter((b) => e.bindings.includes(b.name)).map((b) => {
      const resource = resources[b.name];
      if (resource === undefined) throw new ProgramInterfaceError(`${where}: binding ${b.name} (${b.type}) is not given`);
      return { name: b.name, binding: b.binding, addressSpace: b.addressSpace, resource };
    });
  }

  /** Dispatch grid of `threads` invocations of `entry`. */
  grid(entry: string, threads: number): [number, number] {
    return workgroupGrid(threads, this.entry(entry).workgroupSize);
  }
}
