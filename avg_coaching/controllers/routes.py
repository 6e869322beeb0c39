"""The options of the addon's portal routes, in one place: each route names its
path and one of these (``@http.route("/my/moments/new", **routes.USER_POST)``)."""

USER_PAGE = {"type": "http", "auth": "user", "website": True}
USER_GET = dict(USER_PAGE, methods=["GET"])
USER_POST = dict(USER_PAGE, methods=["POST"])
PUBLIC_PAGE = {"type": "http", "auth": "public", "website": True}
PUBLIC_POST = dict(PUBLIC_PAGE, methods=["POST"])
