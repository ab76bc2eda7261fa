package org.lichen.app.ui

import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.lazy.rememberLazyListState
import androidx.compose.material3.Badge
import androidx.compose.material3.Button
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Switch
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.material3.TopAppBar
import androidx.compose.runtime.Composable
import androidx.compose.runtime.DisposableEffect
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.unit.dp
import androidx.navigation.compose.NavHost
import androidx.navigation.compose.composable
import androidx.navigation.compose.rememberNavController
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import org.lichen.Lichen
import org.lichen.app.Foreground
import org.lichen.app.Prefs
import org.lichen.app.logic.ChatListViewModel
import org.lichen.app.logic.ConversationViewModel
import org.lichen.app.logic.DeliveryMark
import org.lichen.app.logic.DongleScreen
import org.lichen.app.logic.DongleViewModel
import org.lichen.app.logic.StatusStrip

/**
 * The app's screens over the view-models in :logic. Thin on purpose: what is shown and
 * what a button does is decided there (and tested on the JVM); this draws it.
 * Not built here (no Android SDK on the development machines).
 */
@Composable
fun AppScreens(root: Lichen, openChat: String?) {
    val nav = rememberNavController()
    val chats = remember(root) { ChatListViewModel(root.chats()).also { it.start() } }
    DisposableEffect(root) { onDispose { chats.close() } }
    LaunchedEffect(root) {
        while (true) {
            val dongle = try { root.dongle().status() } catch (e: Exception) { null }
            val sync = try { root.sync().progress() } catch (e: Exception) { null }
            chats.setStatus(StatusStrip.of(dongle, sync, phonesNearby = 0))
            delay(5_000)
        }
    }
    LaunchedEffect(openChat) { openChat?.let { nav.navigate("chat/$it") } }
    NavHost(nav, startDestination = "chats") {
        composable("chats") { ChatListScreen(chats, open = { nav.navigate("chat/$it") }, go = { nav.navigate(it) }) }
        composable("chat/{id}") { e ->
            val id = e.arguments?.getString("id") ?: return@composable
            ConversationScreen(root, id)
        }
        composable("dongle") { DongleScreenView(root) }
        composable("new") { NewChatScreen(root) { nav.navigate("chat/$it") } }
        composable("contacts") { ContactsScreen(root) }
        composable("invites") { InvitesScreen(root) }
        composable("links") { LinksScreen(root) }
        composable("settings") { SettingsScreen(root) }
    }
}

@OptIn(ExperimentalMaterial3Api::class)
@Composable
fun ChatListScreen(vm: ChatListViewModel, open: (String) -> Unit, go: (String) -> Unit) {
    val s by vm.state.collectAsState()
    Scaffold(topBar = { TopAppBar(title = { Text("Chats") }) }) { pad ->
        Column(Modifier.padding(pad)) {
            Text(
                s.status.text(),
                Modifier.fillMaxWidth().clickable { go("dongle") }.padding(12.dp),
                style = MaterialTheme.typography.labelMedium,
            )
            Row(Modifier.padding(horizontal = 8.dp), horizontalArrangement = Arrangement.spacedBy(4.dp)) {
                for ((label, route) in listOf("New" to "new", "Contacts" to "contacts", "Invites" to "invites", "Links" to "links", "Settings" to "settings")) {
                    TextButton(onClick = { go(route) }) { Text(label) }
                }
            }
            LazyColumn {
                items(s.rows, key = { it.id }) { row ->
                    ListItem(
                        headlineContent = { Text(row.title) },
                        supportingContent = { row.preview?.let { Text(it, maxLines = 1) } },
                        trailingContent = { row.badge?.let { Badge { Text(it) } } },
                        modifier = Modifier.clickable { vm.select(row.id); open(row.id) },
                    )
                    HorizontalDivider()
                }
            }
        }
    }
}

@Composable
fun ConversationScreen(root: Lichen, chatId: String) {
    val vm = remember(chatId) {
        val conv = root.chats().conversation(chatId)
        ConversationViewModel(conv, members = emptyList()).also { it.start() }
    }
    val s by vm.state.collectAsState()
    val scope = rememberCoroutineScope()
    var legend by remember { mutableStateOf(false) }
    DisposableEffect(chatId) {
        Foreground.chatOnScreen = chatId
        onDispose {
            Foreground.chatOnScreen = null
            scope.launch { vm.setVisible(false) }
            vm.close()
        }
    }
    LaunchedEffect(chatId) { vm.setVisible(true) }
    LaunchedEffect(s.messages.size) { vm.markReadIfShown() }
    LaunchedEffect(chatId) {
        while (true) {
            try { vm.updateSync(root.sync().progress()) } catch (_: Exception) {}
            delay(10_000)
        }
    }
    val list = rememberLazyListState()
    LaunchedEffect(list.firstVisibleItemIndex) {
        if (list.firstVisibleItemIndex == 0 && s.mayHaveOlder && s.loaded) vm.loadOlder()
    }
    Column(Modifier.fillMaxSize().padding(8.dp)) {
        TextButton(onClick = { legend = !legend }) { Text(if (legend) "Hide marks" else "What the marks mean") }
        if (legend) DeliveryMark.LEGEND.forEach { Text("${it.symbol}  ${it.meaning}") }
        for (who in s.stillArriving) Text("A message from ${who.take(8)}… is still arriving", style = MaterialTheme.typography.labelMedium)
        LazyColumn(Modifier.weight(1f), state = list) {
            items(s.messages, key = { it.id }) { m ->
                val head = if (m.mine) "me" else m.authorName
                Text("$head: ${m.text} ${m.mark?.symbol ?: ""}", Modifier.padding(4.dp))
            }
        }
        s.error?.let { Text(it, color = MaterialTheme.colorScheme.error) }
        s.draftHint?.takeIf { it.show }?.let { Text(it.text(), style = MaterialTheme.typography.labelSmall) }
        Row {
            OutlinedTextField(s.draft, vm::editDraft, Modifier.weight(1f))
            Button(onClick = { scope.launch { vm.send() } }) { Text("Send") }
        }
    }
}

@Composable
fun DongleScreenView(root: Lichen) {
    val vm = remember(root) { DongleViewModel(root.dongle()) }
    val s by vm.screen.collectAsState()
    val scope = rememberCoroutineScope()
    LaunchedEffect(root) {
        vm.refresh()
        while (true) {
            delay(2_000)
            if (vm.screen.value !is DongleScreen.ScanList && vm.screen.value !is DongleScreen.Scanning) vm.refresh()
        }
    }
    Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        when (val x = s) {
            DongleScreen.Idle -> Button(onClick = { scope.launch { vm.scan() } }) { Text("Scan for dongles") }
            DongleScreen.Scanning -> Text("Scanning…")
            is DongleScreen.ScanList -> {
                if (x.found.isEmpty()) Text("No dongle found. Is it on and near?")
                x.found.forEach { f ->
                    ListItem(
                        headlineContent = { Text(f.name) },
                        supportingContent = { Text(f.signal) },
                        modifier = Modifier.clickable { scope.launch { vm.pair(f) } },
                    )
                }
                TextButton(onClick = { scope.launch { vm.scan() } }) { Text("Scan again") }
            }
            is DongleScreen.Pairing -> Text("Connecting to ${x.name}…")
            is DongleScreen.Connected -> {
                Text("${x.name}: connected")
                Text("MTU ${x.mtu ?: "?"} · signal ${x.rssi?.let { "$it dBm" } ?: "?"}")
                Text(x.sync)
                if (x.full) Text("The dongle is full", color = MaterialTheme.colorScheme.error)
                TextButton(onClick = { scope.launch { vm.unpair() } }) { Text("Unpair") }
            }
            is DongleScreen.LinkLost -> Text("${x.name}: link lost${x.reason?.let { " ($it)" } ?: ""}")
            is DongleScreen.Reconnecting -> {
                Text("${x.name}: reconnecting (attempt ${x.attempt})")
                x.lastError?.let { Text(it) }
                x.nextAttemptUnixMs?.let {
                    val s = ((it - System.currentTimeMillis()) / 1000).coerceAtLeast(0)
                    Text("next try in $s s")
                }
                TextButton(onClick = { scope.launch { vm.unpair() } }) { Text("Unpair") }
            }
            is DongleScreen.Failed -> {
                Text(x.message)
                Text(x.action.hint)
                Button(onClick = { scope.launch { vm.scan() } }) { Text(x.action.button) }
            }
        }
    }
}

@Composable
fun NewChatScreen(root: Lichen, opened: (String) -> Unit) {
    val scope = rememberCoroutineScope()
    var people by remember { mutableStateOf("") }
    var error by remember { mutableStateOf<String?>(null) }
    Column(Modifier.padding(16.dp)) {
        Text("New chat or group (up to 6 others): names or feed ids, separated by commas")
        OutlinedTextField(people, { people = it })
        error?.let { Text(it, color = MaterialTheme.colorScheme.error) }
        Button(onClick = {
            val refs = people.split(',').map { it.trim() }.filter { it.isNotEmpty() }
            if (refs.size > 6) { error = "A group has at most 6 others"; return@Button }
            scope.launch {
                try { opened(root.chats().withPeople(refs).id()) } catch (e: Exception) { error = e.message }
            }
        }) { Text("Start") }
    }
}

@Composable
fun ContactsScreen(root: Lichen) {
    var list by remember { mutableStateOf(emptyList<String>()) }
    LaunchedEffect(root) { list = try { root.contacts().list().map { "${it.name} · ${it.shortId} · ${it.trust ?: "not verified"}" } } catch (e: Exception) { listOf(e.message ?: "") } }
    Column(Modifier.padding(16.dp)) {
        Text("My code (show as QR to be verified):")
        Text(root.feedId(), style = MaterialTheme.typography.bodySmall)
        list.forEach { Text(it) }
    }
}

@Composable
fun InvitesScreen(root: Lichen) {
    val scope = rememberCoroutineScope()
    var beacon by remember { mutableStateOf("") }
    var out by remember { mutableStateOf("") }
    Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Button(onClick = {
            scope.launch {
                out = try {
                    val relay = root.settings().get().relays.firstOrNull()
                    root.invites().make(relay, null)
                } catch (e: Exception) { e.message ?: "" }
            }
        }) { Text("Make an invite") }
        Text(out)
        OutlinedTextField(beacon, { beacon = it }, label = { Text("Paste or scan an invite") })
        Button(onClick = { scope.launch { out = try { root.invites().accept(beacon).toString() } catch (e: Exception) { e.message ?: "" } } }) { Text("Accept") }
    }
}

@Composable
fun LinksScreen(root: Lichen) {
    var text by remember { mutableStateOf("") }
    LaunchedEffect(root) {
        while (true) {
            text = try {
                val p = root.sync().progress()
                "${p.links} links · ${p.feeds} feeds · ${p.entriesMissing} entries missing" + (p.whyNot?.let { "\n$it" } ?: "")
            } catch (e: Exception) { e.message ?: "" }
            delay(3_000)
        }
    }
    Text(text, Modifier.padding(16.dp))
}

@Composable
fun SettingsScreen(root: Lichen) {
    val context = LocalContext.current
    val prefs = remember { Prefs(context) }
    val scope = rememberCoroutineScope()
    var s by remember { mutableStateOf(root.settings().get()) }
    var p2p by remember { mutableStateOf(prefs.phoneToPhone) }
    var multicast by remember { mutableStateOf(prefs.multicast) }
    var backup by remember { mutableStateOf<String?>(null) }
    Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        var name by remember { mutableStateOf(s.displayName ?: "") }
        OutlinedTextField(name, { name = it }, label = { Text("Name") })
        Button(onClick = { scope.launch { root.settings().setMyName(name) } }) { Text("Save name") }
        Row { Text("Read receipts", Modifier.weight(1f)); Switch(s.receipts, { v -> s = s.copy(receipts = v); scope.launch { root.settings().set(s) } }) }
        Row { Text("Phone to phone", Modifier.weight(1f)); Switch(p2p, { p2p = it; prefs.phoneToPhone = it }) }
        Row { Text("Wi-Fi multicast", Modifier.weight(1f)); Switch(multicast, { multicast = it; prefs.multicast = it }) }
        Text("Relays: ${s.relays.joinToString().ifEmpty { "none" }}")
        Text("Network key: ${if (s.networkKey == null) "the public network" else "a private network"}")
        Button(onClick = { scope.launch { backup = root.backup().export() } }) { Text("Export a backup") }
        backup?.let { Text("Keep this secret and off other phones:\n$it", style = MaterialTheme.typography.bodySmall) }
        Text("Lichen ${org.lichen.lichenVersion()}")
    }
}
