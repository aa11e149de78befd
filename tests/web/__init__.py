"""The web report: sign-in and security (test_auth*, test_security*, test_login_browser) and
its pages (test_pages*)."""
