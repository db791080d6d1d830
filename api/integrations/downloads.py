"""GET /integrations/downloads/{id}/{token}: a finished clip, for whoever holds its link.

The link is what a Discord follow-up tells (streams/integrations/): a random token
for one asset, with an expiry, so people in the channel can fetch the clip without a
WaveStack token. It opens that asset's file only, read-only, with HTTP Range support,
from its organization's media space; anything else, or an expired link, is 404.
"""

from __future__ import annotations

from aiohttp import web

from api.auth.principal import Principal
from api.integrations.store import INBOUND
from api.problems import not_found
from api.reads.content import asset_content
from api.responses import path_id

MAX_TOKEN_CHARS = 100


async def download(request: web.Request) -> web.StreamResponse:
    asset_id = path_id(request, "download")
    token = request.match_info["token"]
    if len(token) > MAX_TOKEN_CHARS:
        raise not_found("download")
    org_id = await request.app[INBOUND].link_org(asset_id, token)
    if org_id is None:
        raise not_found("download")
    holder = Principal(org_id=org_id, sub="download-link", kind="system", scopes=frozenset())
    return await asset_content(request, holder)
