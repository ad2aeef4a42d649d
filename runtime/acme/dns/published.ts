/**
 * What an API provider published, so that `clearTxt` removes exactly the record its `setTxt` made (the API's record
 * id, and the zone when the API needs it).
 *
 * @module
 */

/** Records published, by name and value. */
export class PublishedRecords<T> {
  readonly #byKey = new Map<string, T>();

  /** Remembers the record published for TXT `value` at `fqdn`. */
  add(fqdn: string, value: string, record: T): void {
    this.#byKey.set(`${fqdn} ${value}`, record);
  }

  /** The record published for TXT `value` at `fqdn`, forgotten now; undefined when there is none. */
  take(fqdn: string, value: string): T | undefined {
    const key = `${fqdn} ${value}`;
    const record = this.#byKey.get(key);
    this.#byKey.delete(key);
    return record;
  }
}
