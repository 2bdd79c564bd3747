const text = await (await fetch(`http://127.0.0.1:8767/cjk`)).text()
const datas = text.split('\n\n').filter((b) => b.startsWith('data: {')).map((b) => b.slice(6))
const d0 = datas[1]!
const at = d0.indexOf('"content": "') + 12
const headSrc = d0.slice(0, at).replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/chatcmpl-[a-z0-9]+/, 'chatcmpl-[^"\\\\\\x00-\\x1f]*').replace(/"created": \d+/, '"created": (?:0|[1-9]\\d*)')
const tailSrc = '", "finish_reason": null\\}\\]\\}'
const any = new RegExp(`^${headSrc}((?:[^"\\\\\\x00-\\x1f]|\\\\.)*)${tailSrc}$`)
const notPlain = new RegExp(`^(?!${headSrc}[^"\\\\\\x00-\\x1f]*${tailSrc}$)`)
console.log(any.test(d0), notPlain.test(d0))
const bodies: string[] = datas.map((d) => any.exec(d)?.[1] ?? '')
function time(name: string, f: () => number) {
  for (let r = 0; r < 3; r++) { const t = performance.now(); const x = f(); if (r === 2) console.log(name, (performance.now() - t).toFixed(1), 'ms', x) }
}
time('notPlain.test', () => { let n = 0; for (const d of datas) if (notPlain.test(d)) n++; return n })
time('any.exec', () => { let n = 0; for (const d of datas) n += any.exec(d)?.[1]?.length ?? 0; return n })
time('JSON.parse body', () => { let n = 0; for (const b of bodies) n += (JSON.parse(`"${b}"`) as string).length; return n })
time('replace', () => { let n = 0; for (const b of bodies) n += b.replace(/[\\"]/g, '\\$&').length; return n })
time('replaceAll', () => { let n = 0; for (const b of bodies) n += b.replaceAll('\\', '\\\\').length; return n })
time('stringify data', () => { let n = 0; for (const d of datas) n += JSON.stringify(d).length; return n })
time('parse data', () => { let n = 0; for (const d of datas) n += JSON.parse(d).choices.length; return n })
