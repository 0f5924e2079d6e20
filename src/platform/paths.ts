/** Absolute paths of the project's own files, independent of the working directory. */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const dataDir = join(projectRoot, ".data");
