"""`firebreak demo`: the whole loop on a real monitoring stack, narrated as it happens
(bot.demo.story.run_demo)."""
