import { newRouter } from "../../router";
import { mountRoutes } from "../../define";
import { requireAuth } from "../../../middleware/auth";
import * as cancel from "./cancel";
import * as del from "./delete";
import * as get from "./get";
import * as launch from "./launch";
import * as list from "./list";
import * as messages from "./messages-list";
import * as patch from "./patch";
import * as pause from "./pause";
import * as post from "./post";
import * as progress from "./progress";
import * as progressStream from "./progress-stream";
import * as resume from "./resume";
import * as retryFailed from "./retry-failed";
import * as schedule from "./schedule";
import * as stats from "./stats";

export function campaignsRoutes() {
  const api = newRouter();
  api.use("*", requireAuth);
  return mountRoutes(
    api,
    "campaigns",
    list,
    post,
    get,
    patch,
    del,
    schedule,
    launch,
    pause,
    resume,
    cancel,
    retryFailed,
    progress,
    progressStream,
    messages,
    stats,
  );
}
