/** A count and its noun, singular for one: '1 reconnect', '3 reconnects'. */
export const counted = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`
