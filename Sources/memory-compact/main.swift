import FunctionsRuntime

await HandlerMain.run(role: .compact)
