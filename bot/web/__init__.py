"""The web report (issue 15): pages for leaders and team leads behind Sign in with Slack.

A thin layer beside bot/slack/: handlers parse a request, call the same services, render a
template. Nothing here computes a figure; every number comes from the published results.
"""
