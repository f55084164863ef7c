import FunctionsRuntime

await HandlerMain.run(role: .local)
