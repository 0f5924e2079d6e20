/** Operations' environment variable: where the PostgreSQL client programs for backups are. */
import { configFragment } from "../../platform/config.ts";
import { pathSetting } from "../../platform/configSchema.ts";

export interface OperationsConfig {
  /** The one directory `backup` and `restore` take pg_dump and pg_restore from; unset: searched. */
  pgBinDir: string | undefined;
}

export const operationsConfig = configFragment({
  variables: {
    BACKUP_PG_BIN_DIR: pathSetting.optional(),
  },
  build: (env): OperationsConfig => ({ pgBinDir: env.BACKUP_PG_BIN_DIR }),
});
