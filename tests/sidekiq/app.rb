# The Sidekiq app of tests/scripting.rs, on redsql at REDSQL_PORT.
require "sidekiq"

url = "redis://127.0.0.1:#{ENV.fetch("REDSQL_PORT")}/0"
Sidekiq.configure_client { |config| config.redis = { url: url } }
Sidekiq.configure_server do |config|
  config.redis = { url: url }
  # Poll the schedule about every second, from the start.
  Sidekiq.options[:poll_interval_average] = 1
  Sidekiq.options[:average_scheduled_poll_interval] = 1
end

class MarkJob
  include Sidekiq::Worker

  def perform(value)
    Sidekiq.redis { |r| r.set("sidekiq-ran", value) }
  end
end
