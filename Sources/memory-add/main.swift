import FunctionsRuntime

await HandlerMain.run(role: .add)
