from extractors.normalize.outlets import registrable_domain, resolve_outlet, title_key


def test_registrable_domain_uses_the_public_suffix_list():
    assert registrable_domain("https://www.bbc.co.uk/news/world-1") == "bbc.co.uk"
    assert registrable_domain("https://m.theguardian.com/world/x") == "theguardian.com"
    assert registrable_domain("news.example.com") == "example.com"
    assert registrable_domain("https://edition.cnn.com:443/x") == "cnn.com"


def test_private_suffixes_keep_hosted_sites_apart():
    assert registrable_domain("https://a.blogspot.com/p/1") == "a.blogspot.com"
    assert registrable_domain("https://b.blogspot.com/p/1") == "b.blogspot.com"


def test_addresses_without_registrable_part_are_their_own_domain():
    assert registrable_domain("http://127.0.0.2:8080/story") == "127.0.0.2"
    assert registrable_domain("http://[::1]:80/x") == "::1"
    assert registrable_domain("localhost:8000") == "localhost"


def test_unknown_top_level_labels_still_group_a_sites_hosts():
    assert registrable_domain("https://www.harbour.example/a") == "harbour.example"
    assert registrable_domain("https://m.news.harbour.example/a") == "harbour.example"


def test_non_urls_have_no_domain():
    assert registrable_domain("urn:newsflow:archive:0123abcd") is None
    assert registrable_domain("") is None
    assert registrable_domain(None) is None
    assert registrable_domain("http://ex ample.com/") is None


def test_outlet_precedence():
    assert resolve_outlet(feed_outlet="Daily Planet", record_outlet="DP", site_name="The Daily Planet",
                          domain="planet.test") == "Daily Planet"
    assert resolve_outlet(record_outlet=" Kabul  Times ", site_name="KT", domain="kt.af") == "Kabul Times"
    assert resolve_outlet(site_name="The Daily Planet", domain="planet.test") == "The Daily Planet"
    assert resolve_outlet(feed_outlet="  ", site_name=None, domain="planet.test") == "planet.test"
    assert resolve_outlet() == "unknown"


def test_title_key_ignores_case_punctuation_spacing_and_site_suffix():
    a = title_key("Taliban envoy accepted by Moscow | The Daily Planet", site_name="The Daily Planet")
    b = title_key("  TALIBAN envoy accepted   by Moscow!")
    assert a == b == "taliban envoy accepted by moscow"
    # a suffix that is not the site's name is part of the headline
    assert title_key("Talks resume - Kabul", site_name="The Daily Planet") == "talks resume kabul"


def test_title_key_refuses_headlines_too_short_to_identify_a_story():
    assert title_key("Live updates") is None
    assert title_key("") is None
    assert title_key(None) is None
