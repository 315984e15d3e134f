import { resolve } from "node:path";
import type { Config } from "../config/config.js";
import type { Logger } from "../log.js";
import { parseDbUrl, redactDbUrl } from "./db-url.js";
import { DbtextStore } from "./dbtext-store.js";
import { MariadbStore } from "./mariadb-store.js";
import type { RegistrantStore } from "./store.js";

/**
 * The store `db_url` names: `mysql://` → MariaDB, `text://` → an existing OpenSIPS db_text directory. Without a
 * db_url (or with `text://<data_dir>`), the embedded default: db_text files in `data_dir`, created on first start.
 * Both check the `version` row of `table_name` (StoreVersionError) and the configured column names (ConfigError)
 * before returning.
 */
export async function openStore(config: Config, log: Logger): Promise<RegistrantStore> {
  if (config.db_url === undefined || config.db_url === "") {
    return DbtextStore.open(resolve(config.data_dir), config.table_name, config, log, { create: true });
  }
  const url = parseDbUrl(config.db_url);
  log.debug({ db_url: redactDbUrl(config.db_url) }, "opening the registrant store");
  switch (url.kind) {
    case "mysql":
      return MariadbStore.open(url, config.table_name, config, log);
    case "text":
      // `text://<data_dir>` is the embedded default spelled as a URL (config's effectiveDbUrl): create it too.
      // Any other directory must already be a db_text database, so a typo cannot start an empty one.
      return DbtextStore.open(url.dir, config.table_name, config, log, {
        create: resolve(url.dir) === resolve(config.data_dir),
      });
  }
}
