# Starts a Sidekiq process on redsql, schedules MarkJob.perform_in(1), and
# checks that the job ran within 10 s of its time. Exits 77 (skip) when
# Sidekiq is not installed.
begin
  require "sidekiq"
rescue LoadError
  puts "sidekiq is not installed"
  exit 77
end
require_relative "app"

here = File.dirname(File.expand_path(__FILE__))
log = File.join(ENV.fetch("TMPDIR", "/tmp"), "sidekiq-#{Process.pid}.log")
pid = Process.spawn("sidekiq", "-r", File.join(here, "app.rb"), "-c", "1", out: log, err: log)
begin
  Sidekiq.redis { |r| r.del("sidekiq-ran") }
  MarkJob.perform_in(1, "yes")
  deadline = Time.now + 11
  ran = nil
  while Time.now < deadline
    ran = Sidekiq.redis { |r| r.get("sidekiq-ran") }
    break if ran
    sleep 0.1
  end
  if ran == "yes"
    puts "ok"
  else
    puts File.read(log)
    puts "the scheduled job did not run"
    exit 1
  end
ensure
  Process.kill("TERM", pid)
  Process.wait(pid)
  File.delete(log) if File.exist?(log)
end
