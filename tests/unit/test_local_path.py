"""The one safe-redirect rule (routing.local_path), followed by sign-in's ?next= and the mail
forms' next: a path on this site, never another site's address however it is written."""

import pytest

from shopadmin.routing import local_path


@pytest.mark.parametrize("target", ["/", "/profile", "/customers/?q=ana%40shop.test&page=2",
                                    "/customers/7#mails"])
def test_a_path_on_this_site_is_followed(target):
    assert local_path(target) == target


@pytest.mark.parametrize("target", [None, "", "https://evil.test/", "//evil.test/",
                                    "/\\evil.test/", "javascript:alert(1)", "evil.test/path",
                                    "http:/evil.test"])
def test_another_sites_address_is_not(target):
    assert local_path(target) is None
